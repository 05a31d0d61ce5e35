// The dashboard's page script: fills the server-rendered shells from /ui/* and keeps them live
// by polling. Plain ES modules served as they are: no framework, no bundler, no build step.
import { page } from './dom.js';
import { appsPage } from './apps-page.js';
import { appPage } from './app-page.js';

if (page === 'apps') appsPage();
if (page === 'app') appPage();
