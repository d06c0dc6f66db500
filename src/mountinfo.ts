// /proc/PID/mountinfo's path fields (root, mount point) escape space, tab,
// newline and backslash as \ooo (the kernel's show_path/mangle): the one
// place they are read back.

/** A mountinfo path field as the path it names. */
export function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
