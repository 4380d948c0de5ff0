// dcmjs ships no type declarations; this covers the part of its data API CovSeg uses.
declare module 'dcmjs' {
  interface DicomElement {
    vr: string;
    Value: unknown[];
  }
  interface Logger {
    setLevel(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'): void;
  }
  type DicomElements = Record<string, DicomElement>;
  class DicomDict {
    constructor(meta: DicomElements);
    meta: DicomElements;
    dict: DicomElements;
    write(options?: Record<string, unknown>): ArrayBuffer;
  }
  const dcmjs: {
    data: {
      DicomDict: typeof DicomDict;
      DicomMessage: {
        readFile(
          buffer: ArrayBuffer,
          options?: { ignoreErrors?: boolean; untilTag?: string | null; includeUntilTagValue?: boolean; noCopy?: boolean },
        ): DicomDict;
      };
      DicomMetaDictionary: {
        naturalizeDataset(dict: DicomElements): Record<string, unknown>;
        denaturalizeDataset(dataset: Record<string, unknown>): DicomElements;
      };
    };
    log: Logger & { getLogger(name: string): Logger };
  };
  export default dcmjs;
}
