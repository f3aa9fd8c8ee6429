/** True when dist/.build-stamp exists and no file under proto/, packages/*\/src or services/*\/src is newer. */
export function distIsFresh(root: string): boolean;
