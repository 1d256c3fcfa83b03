// The constants the server writes into the page (pages.md §2).
interface ChannelConfig {
  ID: string;
  Name: string;
  Icon: string;
  VIP: boolean;
  PermitPhotos: boolean;
  WelcomeMessages: string[] | null;
  EchoMessagesOnJoin: number;
}
interface Claims {
  sub?: string;
  nick?: string;
  op?: boolean;
  vip?: boolean;
  img?: string;
  url?: string;
  emoji?: string;
  gender?: string;
  rules?: string[];
}
interface JWTRules {
  IsNoBroadcastRule: boolean;
  IsNoDarkVideoRule: boolean;
  IsNoImageRule: boolean;
  IsNoVideoRule: boolean;
  IsRedCamRule: boolean;
}
declare const Branding: string;
declare const BareRTCStrings: Record<string, string>;
declare const PublicChannels: ChannelConfig[];
declare const DMDisclaimer: string;
declare const WebsiteURL: string;
declare const PermitNSFW: boolean;
declare const TURN: { URLs: string[] | null; Username: string; Credential: string };
declare const WebhookURLs: { Name: string; Enabled: boolean; URL: string }[];
declare const VIP: { Name: string; Branding: string; Icon: string; MutuallySecret: boolean };
declare const UserJWTToken: string;
declare const UserJWTValid: boolean;
declare const UserJWTClaims: Claims;
declare const UserJWTRules: JWTRules;
declare const CachedBlocklist: string[] | null;
declare const CacheHash: string;
declare function setModalImage(url: string): void;
