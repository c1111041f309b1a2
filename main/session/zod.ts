/**
 * The schema library, imported from here by the whole project (`import * as z`): zod's
 * functional build (`zod/mini`), which a bundler trims to the parts in use (about 20 KB instead
 * of the classic build's 450 KB: several MB less memory for `ibkr-keeper watch`), with zod's
 * English messages, which the functional build leaves out.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
