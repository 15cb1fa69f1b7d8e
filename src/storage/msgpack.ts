// The one msgpackr configuration for metadata on disk and messages between threads and members:
// 64-bit integers come back as bigint (member ids are full uint64), plain maps, no record extension.
import { Packr } from 'msgpackr';

export const packr = new Packr({ int64AsType: 'bigint', useRecords: false, moreTypes: false });

export const pack = (value: unknown): Buffer => packr.pack(value);
export const unpack = <T>(buf: Uint8Array): T => packr.unpack(buf) as T;
