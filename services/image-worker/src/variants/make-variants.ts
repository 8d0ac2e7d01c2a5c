import sharp, { type OutputInfo } from 'sharp';
import { VARIANT_WIDTHS, type VariantName } from '@stowage/core';
import { decodeHevc, ThreadFailure } from './decode-hevc.ts';

/** Limits that keep hostile images from exhausting the worker. */
export interface VariantLimits {
  /** Images whose header declares more pixels are refused before any decoding. */
  maxInputPixels: number;
  /** A job gives up after this long. */
  timeoutSeconds: number;
}

export interface Variant {
  name: VariantName;
  data: Buffer;
  width: number;
  height: number;
}

/** Raised for input that can never make variants (not an image, truncated, too large, too slow): no retry helps. */
export class UnusableImageError extends Error {
  override name = 'UnusableImageError';
}

const ORDER = Object.entries(VARIANT_WIDTHS).sort(([, a], [, b]) => b - a) as [VariantName, number][];

/**
 * Makes the large, small and thumb WebP variants (quality 80) of an image with a single decode: the
 * image is decoded once, EXIF-oriented and scaled to the largest width needed, and every variant is
 * encoded from those pixels. Never enlarges; strips all metadata. Animated GIF and WebP give still
 * variants of their first frame. HEIC photos (HEVC) are decoded by libheif, the rest by sharp.
 */
export async function makeVariants(input: Buffer, limits: VariantLimits): Promise<Variant[]> {
  const options = { limitInputPixels: limits.maxInputPixels, failOn: 'error', pages: 1 } as const;
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    const meta = await sharp(input, options).metadata();
    // Reading the header also applies limitInputPixels: a bomb is refused here, before any decoding.
    if (!meta.width || !meta.height) throw new UnusableImageError('no dimensions in the image header');
    const image =
      meta.compression === 'hevc' ? await hevcPixels(input, meta.hasAlpha, limits) : sharp(input, options);
    decoded = await image
      .timeout({ seconds: limits.timeoutSeconds })
      .rotate()
      .resize({ width: ORDER[0]![1], withoutEnlargement: true })
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    // A decoder thread that failed says nothing about the image: that is retried.
    if (err instanceof UnusableImageError || err instanceof ThreadFailure) throw err;
    throw new UnusableImageError((err as Error).message);
  }
  const { data, info } = decoded;
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
  return Promise.all(
    ORDER.map(async ([name, width]) => {
      const out = await sharp(data, raw)
        .timeout({ seconds: limits.timeoutSeconds })
        .resize({ width, withoutEnlargement: true })
        .webp({ quality: 80 })
        .toBuffer({ resolveWithObject: true });
      return { name, data: out.data, width: out.info.width, height: out.info.height };
    }),
  );
}

/** HEVC-coded HEIF, decoded apart (libvips here lacks the codec); oriented already, so `rotate()` keeps it. */
async function hevcPixels(input: Buffer, hasAlpha: boolean | undefined, limits: VariantLimits) {
  const { data, width, height } = await decodeHevc(input, limits.timeoutSeconds);
  const pixels = sharp(data, { raw: { width, height, channels: 4 } });
  return hasAlpha ? pixels : pixels.removeAlpha();
}
