import { readFile } from 'node:fs/promises';
import dcmjs from 'dcmjs';
import { CovsegError } from '../errors';

// dcmjs logs every VR it has to guess (implicit VR files, damaged data) on the console; CovSeg's own
// errors and problems name the file and say what matters.
dcmjs.log.setLevel('error');
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');

const PIXEL_DATA = '7FE00010';

/** Transfer syntaxes whose pixel data is stored as plain little-endian samples (deflate is undone by dcmjs). */
const NATIVE_SYNTAXES: Record<string, string> = {
  '1.2.840.10008.1.2': 'Implicit VR Little Endian',
  '1.2.840.10008.1.2.1': 'Explicit VR Little Endian',
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
};

/** Names of the transfer syntaxes CovSeg refuses, so the message says which one a file uses. */
const REFUSED_SYNTAXES: Record<string, string> = {
  '1.2.840.10008.1.2.2': 'Explicit VR Big Endian (retired)',
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline (Process 1)',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4)',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless, Non-Hierarchical (Process 14)',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless, First-Order Prediction (Process 14, SV1)',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.202': 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
};

/** The fix for a refused transfer syntax: tools that write the same series uncompressed. */
export const DECOMPRESS_FIX =
  'decompress the series to Explicit VR Little Endian first, e.g. `gdcmconv --raw IN OUT` (GDCM) or `dcmdjpeg IN OUT` / `dcmdrle IN OUT` (DCMTK)';

/** What CovSeg needs from one DICOM file's header. Vectors are in DICOM patient coordinates (LPS, mm). */
export interface DicomHeader {
  file: string;
  transferSyntax: string;
  sopClassUid: string;
  sopInstanceUid: string;
  seriesUid: string;
  studyUid: string;
  patientId: string;
  modality: string;
  seriesNumber?: number;
  seriesDescription: string;
  rows: number;
  columns: number;
  frames: number;
  /** Distance between rows, then between columns (DICOM PixelSpacing order). */
  pixelSpacing?: [number, number];
  /** Row direction (increasing column index), then column direction (increasing row index). */
  orientation?: [number, number, number, number, number, number];
  /** Centre of the first transmitted pixel. */
  position?: [number, number, number];
  sliceThickness?: number;
  slope: number;
  intercept: number;
  bitsAllocated: number;
  bitsStored: number;
  signed: boolean;
  samplesPerPixel: number;
  hasPixels: boolean;
}

/** True when the bytes carry the DICOM Part 10 preamble magic. */
export function hasDicomMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

function toArrayBuffer(buffer: Buffer): ArrayBuffer {
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
}

function corrupt(file: string, why: string, cause?: unknown): CovsegError {
  return new CovsegError('corrupt-file', `not a readable DICOM file (${why})`, {
    file,
    fix: 'replace the file with an intact copy from the scanner or PACS export, or remove it',
    cause,
  });
}

async function readBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch {
    throw new CovsegError('not-found', 'DICOM file cannot be read', { file, fix: 'check the path and permissions' });
  }
}

function parse(file: string, bytes: Buffer, headerOnly: boolean): { meta: Record<string, unknown>; data: Record<string, unknown> } {
  if (!hasDicomMagic(bytes)) throw corrupt(file, 'no DICM magic at byte 128; only DICOM Part 10 files are read');
  try {
    const dict = dcmjs.data.DicomMessage.readFile(
      toArrayBuffer(bytes),
      headerOnly ? { untilTag: PIXEL_DATA, includeUntilTagValue: false, noCopy: true } : { noCopy: true },
    );
    return {
      meta: dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.meta),
      data: dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict),
    };
  } catch (error) {
    throw corrupt(file, `the data set does not parse: ${(error as Error).message}`, error);
  }
}

function first(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

function text(value: unknown): string {
  const v = first(value);
  return v === undefined || v === null ? '' : String(v).trim();
}

function number(value: unknown): number | undefined {
  const v = Number(first(value));
  return value === undefined || value === null || value === '' || !Number.isFinite(v) ? undefined : v;
}

function vector<N extends number>(value: unknown, length: N): number[] | undefined {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split('\\') : [];
  const numbers = list.map(Number);
  return numbers.length === length && numbers.every(Number.isFinite) ? numbers : undefined;
}

function toHeader(file: string, meta: Record<string, unknown>, data: Record<string, unknown>): DicomHeader {
  const bitsAllocated = number(data.BitsAllocated) ?? 16;
  const header: DicomHeader = {
    file,
    transferSyntax: text(meta.TransferSyntaxUID),
    sopClassUid: text(data.SOPClassUID) || text(meta.MediaStorageSOPClassUID),
    sopInstanceUid: text(data.SOPInstanceUID) || text(meta.MediaStorageSOPInstanceUID),
    seriesUid: text(data.SeriesInstanceUID),
    studyUid: text(data.StudyInstanceUID),
    patientId: text(data.PatientID),
    modality: text(data.Modality).toUpperCase(),
    seriesDescription: text(data.SeriesDescription),
    rows: number(data.Rows) ?? 0,
    columns: number(data.Columns) ?? 0,
    frames: number(data.NumberOfFrames) ?? 1,
    slope: number(data.RescaleSlope) || 1,
    intercept: number(data.RescaleIntercept) ?? 0,
    bitsAllocated,
    bitsStored: number(data.BitsStored) ?? bitsAllocated,
    signed: number(data.PixelRepresentation) === 1,
    samplesPerPixel: number(data.SamplesPerPixel) ?? 1,
    hasPixels: PIXEL_DATA in data || 'PixelData' in data,
  };
  const seriesNumber = number(data.SeriesNumber);
  if (seriesNumber !== undefined) header.seriesNumber = seriesNumber;
  const spacing = vector(data.PixelSpacing, 2);
  if (spacing && spacing[0]! > 0 && spacing[1]! > 0) header.pixelSpacing = spacing as [number, number];
  const orientation = vector(data.ImageOrientationPatient, 6);
  if (orientation) header.orientation = orientation as DicomHeader['orientation'];
  const position = vector(data.ImagePositionPatient, 3);
  if (position) header.position = position as [number, number, number];
  const thickness = number(data.SliceThickness);
  if (thickness !== undefined && thickness > 0) header.sliceThickness = thickness;
  return header;
}

/** Reads the header of one DICOM Part 10 file (stops before the pixel data). Throws a CovsegError naming the file. */
export async function readDicomHeader(file: string): Promise<DicomHeader> {
  const { meta, data } = parse(file, await readBytes(file), true);
  return toHeader(file, meta, data);
}

/** Throws the `unsupported` error for pixel data CovSeg cannot decode, naming the transfer syntax. */
export function requireDecodable(header: DicomHeader): void {
  const syntax = header.transferSyntax;
  if (!NATIVE_SYNTAXES[syntax]) {
    const name = REFUSED_SYNTAXES[syntax] ?? 'an unknown transfer syntax';
    throw new CovsegError('unsupported', `pixel data is compressed as ${name} (${syntax}), which CovSeg does not decode`, {
      file: header.file,
      fix: DECOMPRESS_FIX,
    });
  }
  if (header.samplesPerPixel !== 1) {
    throw new CovsegError('unsupported', `${header.samplesPerPixel} samples per pixel; CT slices have one`, {
      file: header.file,
      fix: 'use the grayscale CT series, not a colour rendering or secondary capture',
    });
  }
  if (header.frames !== 1) {
    throw new CovsegError('unsupported', `multi-frame image (${header.frames} frames); CovSeg reads one slice per file`, {
      file: header.file,
      fix: 'convert the enhanced multi-frame CT to classic single-frame files, e.g. with `emf2sf` (dcm4che) or `dcuncompress`/`gdcmconv --split`',
    });
  }
  if (![8, 16, 32].includes(header.bitsAllocated) || header.bitsStored > header.bitsAllocated) {
    throw new CovsegError('unsupported', `pixels of ${header.bitsAllocated} bits allocated, ${header.bitsStored} stored`, {
      file: header.file,
      fix: 'convert the series to 16-bit samples',
    });
  }
}

/** One decoded slice: header, and Hounsfield values row by row (`hu[row * columns + column]`). */
export interface DicomSlice {
  header: DicomHeader;
  hu: Float32Array;
}

/**
 * Reads a whole DICOM file and returns its pixels rescaled to HU (RescaleSlope/Intercept). Bits above
 * BitsStored are masked off and the stored value sign-extended, as PS3.5 8.1.1 prescribes.
 */
export async function readDicomSlice(file: string): Promise<DicomSlice> {
  const { meta, data } = parse(file, await readBytes(file), false);
  const header = toHeader(file, meta, data);
  if (!header.hasPixels) throw corrupt(file, 'it has no pixel data');
  requireDecodable(header);
  const count = header.rows * header.columns;
  if (count === 0) throw corrupt(file, 'Rows or Columns is missing');
  // dcmjs hands native pixel data over as one frame: an ArrayBuffer, or a view when reading without copies.
  const frames = data.PixelData as (ArrayBuffer | ArrayBufferView)[] | ArrayBuffer | ArrayBufferView | undefined;
  const frame = Array.isArray(frames) ? frames[0] : frames;
  const view =
    frame instanceof ArrayBuffer ? new DataView(frame) : frame && ArrayBuffer.isView(frame) ? new DataView(frame.buffer, frame.byteOffset, frame.byteLength) : undefined;
  const bytesPerSample = header.bitsAllocated / 8;
  if (!view || view.byteLength < count * bytesPerSample) {
    throw corrupt(file, `pixel data is shorter than ${header.rows}x${header.columns} samples (file truncated?)`);
  }
  const hu = new Float32Array(count);
  const stored = header.bitsStored;
  const mask = 2 ** Math.min(stored, 31) - 1;
  const signBit = 2 ** (stored - 1);
  for (let n = 0; n < count; n++) {
    let raw =
      bytesPerSample === 1 ? view.getUint8(n) : bytesPerSample === 2 ? view.getUint16(n * 2, true) : view.getUint32(n * 4, true);
    if (stored < header.bitsAllocated) raw &= mask;
    if (header.signed && raw >= signBit) raw -= 2 ** stored;
    hu[n] = raw * header.slope + header.intercept;
  }
  return { header, hu };
}
