/** The part of fs-native-extensions (which ships no types) that main/session/file-lock.ts uses. */
declare module 'fs-native-extensions' {
  /** Takes the lock on the whole file if it is free: true when granted, false when another open holds it. */
  export function tryLock(fd: number, options?: { shared?: boolean }): boolean;
  /** Releases a lock taken through `fd`. */
  export function unlock(fd: number): void;
  const locks: { tryLock: typeof tryLock; unlock: typeof unlock };
  export default locks;
}
