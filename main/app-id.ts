/**
 * The app's identity, in one place: the id Windows credits notifications and the taskbar to
 * (AppUserModelID), macOS's bundle id, and the name notifications carry. electron-builder reads the
 * same constant (electron-builder.config.mjs imports this file's build), so they never differ.
 */
export const APP_ID = 'com.ibkr-session-keeper.app';
export const PRODUCT_NAME = 'IBKR Session Keeper';
