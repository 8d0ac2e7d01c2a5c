import { readFile } from 'node:fs/promises';
import sharp from 'sharp';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const solid = (width: number, height: number, channels: 3 | 4 = 3) =>
  sharp({ create: { width, height, channels, background: { r: 200, g: 90, b: 40, alpha: 1 } } });
const noisy = (width: number, height: number) =>
  sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  });

/** A PNG whose header claims `width` x `height` but whose data is a 1x1 image: a decompression bomb's shape. */
async function bomb(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await solid(1, 1).png().toBuffer());
  // IHDR is the first chunk: 8-byte signature, 4-byte length, "IHDR", width, height, ..., CRC.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

async function animatedGif(): Promise<Buffer> {
  const frames = await Promise.all(
    [0, 80, 160].map((shift) =>
      sharp({
        create: { width: 400, height: 300, channels: 4, background: { r: shift, g: 100, b: 200, alpha: 1 } },
      })
        .png()
        .toBuffer(),
    ),
  );
  return sharp(frames, { join: { animated: true } })
    .gif({ delay: 100 })
    .toBuffer();
}

/**
 * Test images, all made here but one; `width` and `height` are what a viewer shows (after EXIF
 * orientation). The HEIC photo is a file: sharp cannot encode HEVC. It was made once with libheif's
 * x265 encoder (pillow-heif 1.8.1): a 480x320 colour gradient at quality 50.
 */
export async function imageCorpus() {
  const jpeg = await noisy(2400, 1600).jpeg({ quality: 85 }).toBuffer();
  const heic = await readFile(new URL('images/gradient-480x320.heic', import.meta.url));
  return {
    jpeg: { data: jpeg, width: 2400, height: 1600 },
    png: { data: await solid(1000, 700, 4).png().toBuffer(), width: 1000, height: 700 },
    webp: { data: await solid(500, 500).webp().toBuffer(), width: 500, height: 500 },
    avif: { data: await solid(640, 480).avif().toBuffer(), width: 640, height: 480 },
    tiff: { data: await solid(1200, 800).tiff().toBuffer(), width: 1200, height: 800 },
    gif: { data: await animatedGif(), width: 400, height: 300 },
    // Stored 300x200 with EXIF orientation 6 (rotate 90° clockwise): shown 200x300.
    exifRotated: {
      data: await solid(300, 200).jpeg().withMetadata({ orientation: 6 }).toBuffer(),
      width: 200,
      height: 300,
    },
    heic: { data: heic, width: 480, height: 320 },
    tiny: { data: await solid(1, 1).png().toBuffer(), width: 1, height: 1 },
    smallerThanThumb: { data: await solid(120, 90).png().toBuffer(), width: 120, height: 90 },
    bomb: { data: await bomb(100_000, 100_000), width: 100_000, height: 100_000 },
    truncatedJpeg: { data: jpeg.subarray(0, Math.floor(jpeg.length / 2)), width: 0, height: 0 },
    truncatedHeic: { data: heic.subarray(0, Math.floor(heic.length / 2)), width: 0, height: 0 },
    textAsJpeg: {
      data: Buffer.from('this is not an image at all, just text in a .jpg'),
      width: 0,
      height: 0,
    },
  };
}
