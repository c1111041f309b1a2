/**
 * The app's identity, in one place: the id Windows credits notifications and the taskbar to
 * (AppUserModelID), macOS's bundle id, and the name notifications carry. electron-builder.yml's
 * appId and productName must be the same: test/packaging/config.test.ts fails when they differ.
 */
export const APP_ID = 'com.ibkr-session-keeper.app';
export const PRODUCT_NAME = 'IBKR Session Keeper';
