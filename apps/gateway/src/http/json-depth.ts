/**
 * Deepest nesting of arrays and objects in a parsed JSON value, counted without recursion and
 * without walking past `limit`: JSON.parse accepts any depth, but class-transformer,
 * class-validator and JSON.stringify recurse, and a body nested a few thousand deep overflows
 * their stack (a 500) after blocking the event loop for hundreds of milliseconds.
 */
export function exceedsJsonDepth(value: unknown, limit: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    const depth = next.depth + 1;
    if (depth > limit) return true;
    for (const child of Object.values(next.value)) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth });
    }
  }
  return false;
}
