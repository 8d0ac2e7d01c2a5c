import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { imageCorpus } from '../../../../test/support/image-corpus.ts';
import { makeVariants, UnusableImageError } from './make-variants.ts';

const limits = { maxInputPixels: 40_000_000, timeoutSeconds: 30 };
type Corpus = Awaited<ReturnType<typeof imageCorpus>>;

/** Widths of large (1920), small (800) and thumb (300) for an image `width` wide: never upscaled. */
const expectedWidths = (width: number) => [1920, 800, 300].map((max) => Math.min(max, width));

describe('makeVariants', () => {
  let corpus: Corpus;
  before(async () => {
    corpus = await imageCorpus();
  });

  for (const name of [
    'jpeg',
    'png',
    'webp',
    'avif',
    'tiff',
    'gif',
    'heic',
    'exifRotated',
    'tiny',
    'smallerThanThumb',
  ] as const) {
    it(`makes large, small and thumb WebP of ${name}`, async () => {
      const image = corpus[name];
      const variants = await makeVariants(image.data, limits);
      assert.deepEqual(
        variants.map((v) => v.name),
        ['large', 'small', 'thumb'],
      );
      assert.deepEqual(
        variants.map((v) => v.width),
        expectedWidths(image.width),
      );
      for (const v of variants) {
        const meta = await sharp(v.data).metadata();
        assert.equal(meta.format, 'webp');
        assert.equal(meta.width, v.width);
        assert.equal(
          meta.height,
          Math.round((image.height * v.width) / image.width) || 1,
          'aspect ratio kept',
        );
        assert.equal(meta.pages ?? 1, 1, 'a still image');
        assert.equal(meta.exif, undefined, 'metadata stripped');
        assert.equal(meta.orientation, undefined);
      }
    });
  }

  it('rasterises SVG (the API only queues SVG when VARIANT_RASTERISE_SVG is on)', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="500"><rect width="1000" height="500" fill="red"/></svg>',
    );
    const variants = await makeVariants(svg, limits);
    assert.deepEqual(
      variants.map((v) => [v.width, v.height]),
      [
        [1000, 500],
        [800, 400],
        [300, 150],
      ],
    );
  });

  it('refuses a decompression bomb from its header, before decoding', async () => {
    await assert.rejects(makeVariants(corpus.bomb.data, limits), (err: unknown) => {
      assert.ok(err instanceof UnusableImageError);
      assert.match(err.message, /exceeds (the )?(pixel )?limit/);
      return true;
    });
  });

  for (const name of ['jpeg', 'heic'] as const) {
    it(`refuses a ${name} above a lower configured pixel limit`, async () => {
      const { data, width, height } = corpus[name];
      await assert.rejects(
        makeVariants(data, { ...limits, maxInputPixels: width * height - 1 }),
        (err: unknown) => {
          assert.ok(err instanceof UnusableImageError);
          assert.match(err.message, /exceeds (the )?(pixel )?limit/);
          return true;
        },
      );
    });
  }

  for (const name of ['truncatedJpeg', 'truncatedHeic', 'textAsJpeg'] as const) {
    it(`fails cleanly on ${name}`, async () => {
      await assert.rejects(makeVariants(corpus[name].data, limits), UnusableImageError);
    });
  }
});
