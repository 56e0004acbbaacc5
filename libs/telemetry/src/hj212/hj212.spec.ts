import { crcVariantOf, hj212Crc, modbusSwappedCrc } from './crc';
import { Hj212Framer } from './framer';
import { beijingTimestamp, dataAnswer, frame, parseMessage, setTimeCommand } from './message';
import { decodeHj212Data } from './decode';

const APPENDIX_A =
  'QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&';
const NOW = Date.parse('2026-11-28T08:00:30+08:00');
const ctx = { deviceId: 'hj-1', receivedAt: NOW, maxAgeMs: 90 * 86_400_000 - 3_600_000 };
const data = (cn: string, cp: string, flag = 5) =>
  `QN=20261128080000123;ST=39;CN=${cn};PW=123456;MN=CZ001HJ0000001;Flag=${flag};CP=&&${cp}&&`;

describe('HJ 212 CRC', () => {
  it("matches the standard's Appendix A test vector", () => {
    expect(hj212Crc(APPENDIX_A)).toBe(0x1c80);
    expect(crcVariantOf(APPENDIX_A, '1C80')).toBe('hj212');
    expect(crcVariantOf(APPENDIX_A, '1c80')).toBe('hj212');
  });

  it('tells the byte-swapped MODBUS variant apart', () => {
    const swapped = modbusSwappedCrc(APPENDIX_A);
    expect(swapped).not.toBe(0x1c80);
    expect(crcVariantOf(APPENDIX_A, swapped.toString(16).padStart(4, '0'))).toBe('modbus-swapped');
    expect(crcVariantOf(APPENDIX_A, '0000')).toBeNull();
    expect(crcVariantOf(APPENDIX_A, 'xyz1')).toBeNull();
  });
});

describe('Hj212Framer', () => {
  const one = frame(APPENDIX_A);

  it('reassembles a frame fed one byte at a time, and several frames in one chunk', () => {
    expect(one).toBe(`##0101${APPENDIX_A}1C80\r\n`);
    const framer = new Hj212Framer();
    const events = [...Buffer.from(one)].flatMap((b) => framer.push(Buffer.from([b])));
    expect(events).toEqual([{ kind: 'frame', data: APPENDIX_A, crc: '1C80', raw: one }]);
    const many = new Hj212Framer().push(Buffer.from(one + one + one));
    expect(many.map((e) => e.kind)).toEqual(['frame', 'frame', 'frame']);
  });

  it('skips garbage and resynchronises on the next ##', () => {
    const events = new Hj212Framer().push(Buffer.from(`junk\x00\xff#${one}more junk#`));
    expect(events.map((e) => e.kind)).toEqual(['garbage', 'frame', 'garbage']);
    // A stray "##" right before a frame costs only itself, not the frame's own start.
    const stray = new Hj212Framer().push(Buffer.from(`noise##x${one}`));
    expect(stray.map((e) => (e.kind === 'refused' ? e.code : e.kind))).toEqual([
      'garbage',
      'bad_length',
      'garbage',
      'frame',
    ]);
  });

  it('refuses a bad length field, an over-long frame and a length that does not fit, then goes on', () => {
    const framer = new Hj212Framer();
    const events = framer.push(
      Buffer.from(`##12x4abc${one}##2000${'x'.repeat(20)}${one}##0050${APPENDIX_A}1C80\r\n${one}`),
    );
    expect(events.filter((e) => e.kind !== 'garbage').map((e) => (e.kind === 'refused' ? e.code : e.kind))).toEqual([
      'bad_length',
      'frame',
      'frame_too_long',
      'frame',
      'length_mismatch',
      'frame',
    ]);
    expect(framer.pending).toBe(0);
  });

  it('holds at most one frame while waiting for the rest', () => {
    const framer = new Hj212Framer();
    framer.push(Buffer.from(`##1024${'x'.repeat(900)}`));
    expect(framer.pending).toBe(906);
    framer.push(Buffer.from('y'.repeat(5000))); // never a frame: dropped as it becomes clear
    expect(framer.pending).toBeLessThanOrEqual(1036);
  });
});

describe('HJ 212 messages', () => {
  it('parses the header and CP, leniently', () => {
    expect(parseMessage(APPENDIX_A)).toEqual({
      qn: '20160801085857223',
      st: '32',
      cn: '1062',
      pw: '100000',
      mn: '010000A8900016F000169DC0',
      flag: 5,
      pnum: undefined,
      pno: undefined,
      cp: 'RtdInterval=30',
    });
    expect(parseMessage('QN=1;ST=39;CN=2011;PNUM=2;PNO=1;Flag=7;CP=&&DataTime=20261128080000;&&')).toMatchObject({
      pnum: 2,
      pno: 1,
      flag: 7,
      cp: 'DataTime=20261128080000;',
    });
    expect(parseMessage('QN=1;ST=39;PW=1;CP=&&&&')).toBeNull();
    expect(parseMessage('QN=1;ST=39;CN=2011;PW=1')).toBeNull();
  });

  it('answers 9014 with the same QN and sets the time in Beijing time', () => {
    const message = parseMessage(data('2011', 'DataTime=20261128080000;a34002-Rtd=87'))!;
    expect(dataAnswer(message, 'hj212')).toBe(
      frame('QN=20261128080000123;ST=91;CN=9014;PW=123456;MN=CZ001HJ0000001;Flag=4;CP=&&&&'),
    );
    expect(setTimeCommand(message, NOW, 'hj212')).toBe(
      frame('QN=20261128080030000;ST=39;CN=1012;PW=123456;MN=CZ001HJ0000001;Flag=5;CP=&&SystemTime=20261128080030&&'),
    );
    expect(beijingTimestamp(Date.parse('2026-12-31T16:30:00Z'))).toBe('20270101003000');
  });
});

describe('decodeHj212Data', () => {
  const decode = (cn: string, cp: string, units = {}) => {
    const text = data(cn, cp);
    return decodeHj212Data(parseMessage(text)!, units, ctx, text);
  };

  it('reads real-time data in Beijing time, with flags, lenient about sloppy devices', () => {
    const result = decode(
      '2011',
      'DataTime=20261128080000;a34002-Rtd=87.5,a34002-Flag=N;a34004-Rtd=41,Flag=m;a34001-Rtd=160;LA-Rtd=62.1;a01001-Rtd=3.5,a01001-Flag=N;a21026-Rtd=12;x99-Rtd=1;',
    );
    expect(result.rejections).toEqual([]);
    expect(result.skippedCodes).toEqual(['a21026', 'x99']);
    expect(result.readings).toEqual([
      {
        deviceId: 'hj-1',
        ts: Date.parse('2026-11-28T00:00:00Z'),
        serverTime: false,
        values: { pm25: 41, pm10: 87.5, tsp: 160, noise: 62.1, temperature: 3.5 },
        flags: { pm10: 'N', pm25: 'M', temperature: 'N' },
        kind: 'rtd',
      },
    ]);
  });

  it('scales particulates a device sends in mg/m³, takes the minute average, and warns about a flag without value', () => {
    const result = decode('2051', 'DataTime=20261128075900;a34002-Avg=0.087,a34002-Min=0.05;a34001-Flag=D;LA-Avg=55', {
      a34002: 'mg/m3',
    });
    expect(result.readings.map((r) => [r.values, r.kind])).toEqual([[{ pm10: 87, noise: 55 }, 'min']]);
    expect(result.warnings.map((w) => w.field)).toEqual(['flags.tsp']);
  });

  it('keeps hour values as an aggregate, judged by nobody', () => {
    const result = decode('2061', 'DataTime=20261128070000;a34002-Avg=80,a34002-Min=40,a34002-Max=130;Leq-Avg=58');
    expect(result.readings).toEqual([]);
    expect(result.aggregate).toEqual({
      period: 'hour',
      ts: Date.parse('2026-11-27T23:00:00Z'),
      values: { pm10: { avg: 80, min: 40, max: 130 }, noise: { avg: 58 } },
    });
  });

  it('refuses an impossible DataTime, a missing one, and values out of range, with reasons', () => {
    const code = (cp: string) => decode('2011', cp).rejections.map((r) => r.reasons.map((x) => x.code));
    expect(code('DataTime=20260931100000;a34002-Rtd=87')).toEqual([['bad_timestamp']]);
    expect(code('a34002-Rtd=87')).toEqual([['bad_timestamp']]);
    expect(code('DataTime=20261128080000;a34002-Rtd=-3')).toEqual([['out_of_range']]);
    expect(code('DataTime=20261128080000;a34002-Rtd=abc')).toEqual([['wrong_type']]);
    expect(code('DataTime=20261128090000;a34002-Rtd=87')).toEqual([['ts_in_future']]);
    expect(decode('2011', 'DataTime=20260931100000;a34002-Rtd=87').rejections[0].reasons[0].message).toBe(
      'DataTime "20260931100000" is not yyyyMMddHHmmss naming a real Beijing time',
    );
  });
});
