import type { UserImageRecord } from './store';

/** Decodes image files and resizes them to the model input as grayscale or RGB bytes. */
export async function importImageFiles(
  files: Iterable<File>,
  size: { width: number; height: number; channels: 1 | 3 },
): Promise<{ images: Omit<UserImageRecord, 'id'>[]; skipped: string[] }> {
  const canvas = new OffscreenCanvas(size.width, size.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('this browser cannot decode images (no 2D canvas)');
  const images: Omit<UserImageRecord, 'id'>[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    if (!file.type.startsWith('image/')) {
      skipped.push(file.name);
      continue;
    }
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      skipped.push(file.name);
      continue;
    }
    ctx.clearRect(0, 0, size.width, size.height);
    ctx.drawImage(bitmap, 0, 0, size.width, size.height);
    bitmap.close();
    const rgba = ctx.getImageData(0, 0, size.width, size.height).data;
    const pixels = new Uint8Array(size.width * size.height * size.channels);
    for (let p = 0; p < size.width * size.height; p++) {
      const r = rgba[4 * p]!,
        g = rgba[4 * p + 1]!,
        b = rgba[4 * p + 2]!;
      if (size.channels === 1) pixels[p] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
      else pixels.set([r, g, b], 3 * p);
    }
    images.push({ name: file.webkitRelativePath || file.name, ...size, pixels, addedAt: Date.now() });
  }
  return { images, skipped };
}
