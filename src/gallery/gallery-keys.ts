/**
 * Where a run's gallery lives, next to its manifest: `runs/<runId>/gallery/index.html`, WebP
 * thumbnails under `thumbs/`, and the tiles' data in pages under `data/` (script files, so the
 * page works opened from disk as well as served from a bucket). Every link in the page is relative.
 */
export const GALLERY_PAGE_SIZE = 500;

export interface GalleryKeys {
  folder: string;
  index: string;
  /** Relative to the folder: `thumbs/<page>/<index>.webp`. */
  thumb(itemIndex: number): string;
  /** Relative to the folder: `data/page-00001.js`. */
  dataPage(page: number): string;
}

export function galleryKeys(runId: string): GalleryKeys {
  const folder = `runs/${runId}/gallery`;
  return {
    folder,
    index: `${folder}/index.html`,
    thumb: (itemIndex) => `thumbs/${String(Math.floor(itemIndex / 1000)).padStart(4, '0')}/${itemIndex}.webp`,
    dataPage: (page) => `data/page-${String(page).padStart(5, '0')}.js`,
  };
}

/** A link from the gallery folder (three levels below the output root) to an output key. */
export function linkFromGallery(key: string): string {
  return `../../../${key.split('/').map(encodeURIComponent).join('/')}`;
}
