/**
 * The zero pixels of a `width x height` map that a 4-connected path of zeros joins to the border:
 * 1 there, 0 elsewhere. Zeros it leaves out are holes (the lung mask fills them; the Annotate
 * view's fill-holes tool paints them). Shared by the engine and the renderer.
 */
export function borderConnectedZeros(map: Uint8Array, width: number, height: number): Uint8Array {
  const outside = new Uint8Array(width * height);
  const stack: number[] = [];
  const seed = (i: number) => {
    if (map[i] === 0 && !outside[i]) {
      outside[i] = 1;
      stack.push(i);
    }
  };
  for (let x = 0; x < width; x++) {
    seed(x);
    seed((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    seed(y * width);
    seed(y * width + width - 1);
  }
  while (stack.length > 0) {
    const i = stack.pop()!;
    const x = i % width;
    if (x > 0) seed(i - 1);
    if (x < width - 1) seed(i + 1);
    if (i >= width) seed(i - width);
    if (i + width < width * height) seed(i + width);
  }
  return outside;
}
