// The gateway's JSON layer against what etcd 3.4.23's gateway answers for the same bodies (the
// expected texts were taken from real etcd; gateway.test.ts also compares live, side by side).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { goBase64Decode } from '../../src/main/api/http/gateway/go-base64.js';
import { readStreamValue, readWhole } from '../../src/main/api/http/gateway/go-json.js';
import { goJsonString, messageFromJson, messageToJson, type DecodedMessage } from '../../src/main/api/http/gateway/jsonpb.js';
import { loadRoutes } from '../../src/main/api/http/gateway/routes.js';

const routes = loadRoutes();
const rangeRequest = routes.get('/v3/kv/range')!.request;
const txnRequest = routes.get('/v3/kv/txn')!.request;

/** What the gateway reports for a body: the error message, or the request re-encoded as JSON. */
function decodeBody(body: string, type = rangeRequest): string {
  try {
    const read = readStreamValue(Buffer.from(body, 'latin1'), 0, true);
    const obj = read.kind === 'value' ? messageFromJson(type, read.value) : {};
    return 'ok ' + messageToJson(type, type.decode(type.encode(obj).finish()) as unknown as DecodedMessage);
  } catch (e) {
    return (e as Error).message;
  }
}

describe('request bodies: Go encoding/json and jsonpb errors, as etcd 3.4.23 reports them', () => {
  const cases: [string, string][] = [
    ['{"key":"Zm9v"', 'unexpected EOF'],
    ['{"key"', 'unexpected EOF'],
    ['{"key":}', "invalid character '}' looking for beginning of value"],
    ['{"key" "x"}', `invalid character '"' after object key`],
    ['{"key":"Zm9v",}', "invalid character '}' looking for beginning of object key string"],
    ['{"key":"Zm9v" "a":1}', `invalid character '"' after object key:value pair`],
    ['{bad', "invalid character 'b' looking for beginning of object key string"],
    ["{'key':1}", "invalid character '\\'' looking for beginning of object key string"],
    ['{"key":"Zm9v","keys_only":tru}', "invalid character '}' in literal true (expecting 'e')"],
    ['{"key":"Zm9v","keys_only":nul}', "invalid character '}' in literal null (expecting 'l')"],
    ['{"key":"\\q"}', "invalid character 'q' in string escape code"],
    ['{"key":"\\u12"}', `invalid character '"' in \\u hexadecimal character escape`],
    ['{"key":"Zm9v","limit":-}', "invalid character '}' in numeric literal"],
    ['{"key":"Zm9v","limit":1.}', "invalid character '}' after decimal point in numeric literal"],
    ['{"key":"Zm9v","limit":1e}', "invalid character '}' in exponent of numeric literal"],
    ['{"key":"Zm9v","limit":01}', "invalid character '1' after object key:value pair"],
    ['x', "invalid character 'x' looking for beginning of value"],
    ['\xef\xbb\xbf{}', "invalid character 'ï' looking for beginning of value"],
    ['"str"', 'json: cannot unmarshal string into Go value of type map[string]json.RawMessage'],
    ['5', 'json: cannot unmarshal number into Go value of type map[string]json.RawMessage'],
    ['[]', 'json: cannot unmarshal array into Go value of type map[string]json.RawMessage'],
    ['{"key":123}', 'json: cannot unmarshal number into Go value of type []uint8'],
    ['{"key":{}}', 'json: cannot unmarshal object into Go value of type []uint8'],
    ['{"key":["Zm9v"]}', 'json: cannot unmarshal string into Go value of type uint8'],
    ['{"key":"Zm9v","limit":1.5}', 'json: cannot unmarshal number 1.5 into Go value of type int64'],
    ['{"key":"Zm9v","limit":true}', 'json: cannot unmarshal bool into Go value of type int64'],
    ['{"key":"Zm9v","limit":"1e2"}', 'json: cannot unmarshal number 1e2 into Go value of type int64'],
    ['{"key":"Zm9v","limit":99999999999999999999}', 'json: cannot unmarshal number 99999999999999999999 into Go value of type int64'],
    ['{"key":"Zm9v","limit":[1]}', 'json: cannot unmarshal array into Go value of type int64'],
    ['{"key":"Zm9v","limit":"abc"}', "invalid character 'a' looking for beginning of value"],
    ['{"key":"Zm9v","limit":"05"}', "invalid character '5' after top-level value"],
    ['{"key":"Zm9v","limit":"-"}', "invalid character ' ' in numeric literal"],
    ['{"key":"Zm9v","limit":""}', 'unexpected end of JSON input'],
    ['{"key":"Zm9v","limit":"\\u0031"}', "invalid character '\\\\' looking for beginning of value"],
    ['{"key":"Zm9v","keys_only":"true"}', 'json: cannot unmarshal string into Go value of type bool'],
    ['{"key":"Zm9v","keys_only":1}', 'json: cannot unmarshal number into Go value of type bool'],
    ['{"key":"Zm9v","sort_order":"5"}', 'unknown value "5" for enum etcdserverpb.RangeRequest_SortOrder'],
    ['{"key":"Zm9v","sort_target":"BOGUS"}', 'unknown value "BOGUS" for enum etcdserverpb.RangeRequest_SortTarget'],
    ['{"key":"Zm9v","sort_order":1.5}', 'json: cannot unmarshal number 1.5 into Go value of type etcdserverpb.RangeRequest_SortOrder'],
    ['{"key":"Zm9v","sort_order":true}', 'json: cannot unmarshal bool into Go value of type etcdserverpb.RangeRequest_SortOrder'],
    ['{"key":"Zm9"}', 'illegal base64 data at input byte 0'],
    ['{"key":"Zm9v="}', 'illegal base64 data at input byte 4'],
    ['{"key":"Zm-v"}', 'illegal base64 data at input byte 2'],
    ['{"key":"Zm9vYg"}', 'illegal base64 data at input byte 4'],
    ['{"key":"Z"}', 'illegal base64 data at input byte 0'],
    ['{"key":"Zm9vYg==Zm9v"}', 'illegal base64 data at input byte 8'],
    ['{"key":"Zm9vY==="}', 'illegal base64 data at input byte 5'],
    ['{"key":"\xc3\xa9"}', 'illegal base64 data at input byte 0'],
  ];
  for (const [body, expected] of cases) {
    test(body, () => assert.equal(decodeBody(body), expected));
  }

  test('txn: nested messages and lists', () => {
    assert.equal(decodeBody('{"success":{}}', txnRequest), 'json: cannot unmarshal object into Go value of type []json.RawMessage');
    assert.equal(decodeBody('{"success":[5]}', txnRequest), 'json: cannot unmarshal number into Go value of type map[string]json.RawMessage');
    assert.equal(decodeBody('{"success":[{"request_put":5}]}', txnRequest), 'json: cannot unmarshal number into Go value of type map[string]json.RawMessage');
    assert.equal(decodeBody('{"success":[{"request_put":{"key":5}}]}', txnRequest), 'json: cannot unmarshal number into Go value of type []uint8');
  });
});

describe('request bodies that etcd accepts', () => {
  const cases: [string, string][] = [
    ['', 'ok {}'],
    ['   ', 'ok {}'],
    ['null', 'ok {}'],
    ['{"key":"Zm9v"} trailing', 'ok {"key":"Zm9v"}'],
    ['{"key":"Zm9v"}}', 'ok {"key":"Zm9v"}'],
    ['{"key":"Zm9v\\n"}', 'ok {"key":"Zm9v"}'],
    ['{"key":"Zm9vYg=="}', 'ok {"key":"Zm9vYg=="}'],
    ['{"key":[102,111,111]}', 'ok {"key":"Zm9v"}'],
    ['{"ke\\u0079":"YQ=="}', 'ok {"key":"YQ=="}'],
    ['{"key":"Zm9v","key":"YQ=="}', 'ok {"key":"YQ=="}'],
    ['{"key":"Zm9v","keysOnly":true,"keys_only":false}', 'ok {"key":"Zm9v","keys_only":true}'],
    ['{"key":"Zm9v","limit":"5","unknown":[1,{}]}', 'ok {"key":"Zm9v","limit":"5"}'],
    ['{"key":"Zm9v","limit":" 5"}', 'ok {"key":"Zm9v","limit":"5"}'],
    ['{"key":"Zm9v","limit":-1}', 'ok {"key":"Zm9v","limit":"-1"}'],
    ['{"key":"Zm9v","limit":-0}', 'ok {"key":"Zm9v"}'],
    ['{"key":"Zm9v","limit":null,"sort_order":null}', 'ok {"key":"Zm9v"}'],
    ['{"key":"Zm9v","limit":"null"}', 'ok {"key":"Zm9v"}'],
    ['{"key":"Zm9v","sort_order":"DESCEND","sort_target":"MOD"}', 'ok {"key":"Zm9v","sort_order":"DESCEND","sort_target":"MOD"}'],
    ['{"key":"Zm9v","sort_order":5}', 'ok {"key":"Zm9v","sort_order":"5"}'],
  ];
  for (const [body, expected] of cases) {
    test(JSON.stringify(body), () => assert.equal(decodeBody(body), expected));
  }

  test('txn: oneof members by either name, int64 extremes, enums by name', () => {
    const body =
      '{"compare":[{"key":"Zm9v","target":"VALUE","result":"NOT_EQUAL","value":"YmFy"}],' +
      '"success":[{"requestPut":{"key":"Zm9v","lease":"-9223372036854775808"}},{"request_range":{"key":"Zm9v","max_create_revision":"9223372036854775807"}}],' +
      '"failure":[{"request_txn":{}}]}';
    assert.equal(
      decodeBody(body, txnRequest),
      'ok {"compare":[{"result":"NOT_EQUAL","target":"VALUE","key":"Zm9v","value":"YmFy"}],' +
        '"success":[{"request_put":{"key":"Zm9v","lease":"-9223372036854775808"}},{"request_range":{"key":"Zm9v","max_create_revision":"9223372036854775807"}}],' +
        '"failure":[{"request_txn":{}}]}',
    );
  });
});

describe('Go helpers', () => {
  test('stream reading: a value, its end, partial input, end of stream', () => {
    const buf = Buffer.from('{"a":1} {"b":2}');
    const first = readStreamValue(buf, 0, false);
    assert.equal(first.kind, 'value');
    assert.equal(first.kind === 'value' && first.end, 7);
    assert.equal(readStreamValue(Buffer.from('{"a":'), 0, false).kind, 'partial');
    assert.equal(readStreamValue(Buffer.from('12'), 0, false).kind, 'partial');
    assert.equal(readStreamValue(Buffer.from('12'), 0, true).kind, 'value');
    assert.equal(readStreamValue(Buffer.from(' \n'), 0, true).kind, 'eof');
    assert.throws(() => readStreamValue(Buffer.from('{"a":'), 0, true), /^GoJsonError: unexpected EOF$/);
    assert.throws(() => readWhole(Buffer.from('tr')), /in literal true \(expecting 'u'\)/);
  });

  test('base64: padding rules and newlines', () => {
    assert.equal(goBase64Decode(Buffer.from('Zm9v\r\nYmFy')).toString(), 'foobar');
    assert.equal(goBase64Decode(Buffer.from('YQ==')).toString(), 'a');
    assert.equal(goBase64Decode(Buffer.from('YWI=')).toString(), 'ab');
    assert.throws(() => goBase64Decode(Buffer.from('YQ=')), /input byte 3/);
    assert.throws(() => goBase64Decode(Buffer.from('YQ=a')), /input byte 2/);
  });

  test("json strings: Go's HTML-safe escaping", () => {
    assert.equal(goJsonString('a<b>&"\\\n\u2028\u0001'), '"a\\u003cb\\u003e\\u0026\\"\\\\\\n\\u2028\\u0001"');
    assert.equal(goJsonString('\ud800x'), '"\\ufffdx"');
    assert.equal(goJsonString('😀'), '"😀"');
  });
});
