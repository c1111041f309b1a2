// Packaging: `npm run dist` builds the app for the platform it runs on (after `npm run build`).
// The app's metadata (name, version, description, author and its email, homepage, license) is in
// package.json, and only there: electron-builder reads it, and the deb's maintainer is the author.
// The app id comes from main/app-id.ts (as built in dist/), which the app itself uses.
// Checked by test/packaging/config.test.ts as far as it goes without Electron's binary.
import { existsSync } from 'node:fs';

if (!existsSync(new URL('./dist/main/app-id.js', import.meta.url))) {
  throw new Error('dist/main/app-id.js is missing: run `npm run build` first (`npm run dist` does).');
}
const { APP_ID, PRODUCT_NAME } = await import('./dist/main/app-id.js');

/** electron-builder's own deb dependencies (app-builder-lib FpmTarget getDefaultDepends), which `depends` replaces. */
export const DEFAULT_DEB_DEPENDS = ['libgtk-3-0', 'libnotify4', 'libnss3', 'libxss1', 'libxtst6', 'xdg-utils', 'libatspi2.0-0', 'libuuid1', 'libsecret-1-0'];

/** macOS: signed only when a certificate is given (CSC_LINK or CSC_NAME), notarised only with Apple's credentials. */
const signing = Boolean(process.env.CSC_LINK || process.env.CSC_NAME);
const notarising = Boolean(
  (process.env.APPLE_API_KEY && process.env.APPLE_API_KEY_ID && process.env.APPLE_API_ISSUER) ||
    (process.env.APPLE_ID && process.env.APPLE_APP_SPECIFIC_PASSWORD && process.env.APPLE_TEAM_ID) ||
    (process.env.APPLE_KEYCHAIN && process.env.APPLE_KEYCHAIN_PROFILE),
);

/** @type {import('app-builder-lib').Configuration} */
export default {
  appId: APP_ID,
  productName: PRODUCT_NAME,
  copyright: 'IBKR Session Keeper contributors',
  directories: { output: 'release', buildResources: 'build' },
  // The app and nothing else: no simulator (nor the demo, which lives with it), no CLI (npm installs that), no source maps.
  files: [
    'dist/main/**/*',
    '!dist/main/**/*.map',
    '!dist/main/simulator/**',
    '!dist/main/cli/**',
    'dist/renderer/**/*',
    '!dist/renderer/**/*.map',
    'assets/**/*',
    'package.json',
  ],
  // node-notifier runs helper programs (terminal-notifier, SnoreToast, notifu) that cannot run
  // from inside the asar archive; the file locks' prebuilt N-API binaries are loaded as files.
  asarUnpack: ['node_modules/node-notifier/vendor/**', 'node_modules/fs-native-extensions/prebuilds/**'],
  extraMetadata: { main: 'dist/main/desktop/main.js' },
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Finance',
    icon: 'assets/icon.png',
    synopsis: 'Keeps your IBKR Client Portal Gateway session alive',
  },
  deb: {
    // `depends` replaces electron-builder's list: its own, and notify-send for the fallback notifications.
    depends: [...DEFAULT_DEB_DEPENDS, 'libnotify-bin'],
  },
  mac: {
    target: 'dmg',
    category: 'public.app-category.finance',
    icon: 'assets/icon.png',
    hardenedRuntime: true,
    // Without a certificate in the environment the app is not signed at all (null), rather than failing.
    identity: signing ? undefined : null,
    notarize: signing && notarising,
    // A tray app: no dock icon, no menu bar of its own.
    extendInfo: { LSUIElement: true },
  },
  win: { target: 'nsis', icon: 'assets/icon.png' },
  nsis: { oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true },
};
