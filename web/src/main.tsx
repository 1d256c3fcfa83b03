import './app.css';
import { render } from 'preact';
import { App } from './app';
import { Store } from './store';

const store = new Store();
// For debugging from the console (and for the browser tests): the page's state.
(window as unknown as { barertc: Store }).barertc = store;
render(<App store={store} />, document.getElementById('app')!);
