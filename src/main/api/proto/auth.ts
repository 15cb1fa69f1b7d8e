// authpb (UserAddOptions, Permission) and the etcdserverpb Auth service messages.

import { codec, type Init } from './codec.js';
import { decodeResponseHeader, emptyCodec, encodeResponseHeader, headerOnlyCodec, type Empty, type HeaderOnly, type ResponseHeader } from './header.js';
import { EMPTY_BYTES, type Reader } from './reader.js';
import type { Writer } from './writer.js';

// ---- authpb

export interface UserAddOptions {
  noPassword: boolean;
}

export function encodeUserAddOptions(w: Writer, m: Init<UserAddOptions>): void {
  w.bool(1, m.noPassword);
}

export function decodeUserAddOptions(r: Reader, end: number): UserAddOptions {
  const m: UserAddOptions = { noPassword: false };
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) m.noPassword = r.bool(tag);
    else r.skip(tag);
  }
  return m;
}

export const PermissionType = { READ: 0, WRITE: 1, READWRITE: 2 } as const;

export interface Permission {
  /** PermissionType */
  permType: number;
  key: Buffer;
  rangeEnd: Buffer;
}

export function encodePermission(w: Writer, m: Init<Permission>): void {
  w.int(1, m.permType);
  w.bytes(2, m.key);
  w.bytes(3, m.rangeEnd);
}

export function decodePermission(r: Reader, end: number): Permission {
  const m: Permission = { permType: 0, key: EMPTY_BYTES, rangeEnd: EMPTY_BYTES };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.permType = r.int32(tag); break;
      case 2: m.key = r.bytes(tag); break;
      case 3: m.rangeEnd = r.bytes(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

// ---- requests and responses without a shape of their own

export type AuthEnableRequest = Empty;
export type AuthDisableRequest = Empty;
export type AuthStatusRequest = Empty;
export type AuthUserListRequest = Empty;
export type AuthRoleListRequest = Empty;
export type AuthEnableResponse = HeaderOnly;
export type AuthDisableResponse = HeaderOnly;
export type AuthUserAddResponse = HeaderOnly;
export type AuthUserDeleteResponse = HeaderOnly;
export type AuthUserChangePasswordResponse = HeaderOnly;
export type AuthUserGrantRoleResponse = HeaderOnly;
export type AuthUserRevokeRoleResponse = HeaderOnly;
export type AuthRoleAddResponse = HeaderOnly;
export type AuthRoleDeleteResponse = HeaderOnly;
export type AuthRoleGrantPermissionResponse = HeaderOnly;
export type AuthRoleRevokePermissionResponse = HeaderOnly;

// ---- AuthStatus, Authenticate

export interface AuthStatusResponse {
  header?: ResponseHeader;
  enabled: boolean;
  authRevision: number;
}

export function encodeAuthStatusResponse(w: Writer, m: Init<AuthStatusResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.bool(2, m.enabled);
  w.int(3, m.authRevision);
}

export function decodeAuthStatusResponse(r: Reader, end: number): AuthStatusResponse {
  const m: AuthStatusResponse = { header: undefined, enabled: false, authRevision: 0 };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.enabled = r.bool(tag); break;
      case 3: m.authRevision = r.uint(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface AuthenticateRequest {
  name: string;
  password: string;
}

export function encodeAuthenticateRequest(w: Writer, m: Init<AuthenticateRequest>): void {
  w.string(1, m.name);
  w.string(2, m.password);
}

export function decodeAuthenticateRequest(r: Reader, end: number): AuthenticateRequest {
  const m: AuthenticateRequest = { name: '', password: '' };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.name = r.string(tag); break;
      case 2: m.password = r.string(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface AuthenticateResponse {
  header?: ResponseHeader;
  token: string;
}

export function encodeAuthenticateResponse(w: Writer, m: Init<AuthenticateResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.string(2, m.token);
}

export function decodeAuthenticateResponse(r: Reader, end: number): AuthenticateResponse {
  const m: AuthenticateResponse = { header: undefined, token: '' };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.token = r.string(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

// ---- users

export interface AuthUserAddRequest {
  name: string;
  password: string;
  options?: UserAddOptions;
  hashedPassword: string;
}

export function encodeAuthUserAddRequest(w: Writer, m: Init<AuthUserAddRequest>): void {
  w.string(1, m.name);
  w.string(2, m.password);
  w.message(3, m.options, encodeUserAddOptions);
  w.string(4, m.hashedPassword);
}

export function decodeAuthUserAddRequest(r: Reader, end: number): AuthUserAddRequest {
  const m: AuthUserAddRequest = { name: '', password: '', options: undefined, hashedPassword: '' };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.name = r.string(tag); break;
      case 2: m.password = r.string(tag); break;
      case 3: m.options = r.message(tag, decodeUserAddOptions); break;
      case 4: m.hashedPassword = r.string(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

/** AuthUserGetRequest, AuthUserDeleteRequest and AuthRoleAddRequest: a name in field 1. */
export interface NameRequest {
  name: string;
}

export type AuthUserGetRequest = NameRequest;
export type AuthUserDeleteRequest = NameRequest;
export type AuthRoleAddRequest = NameRequest;

export function encodeNameRequest(w: Writer, m: Init<NameRequest>): void {
  w.string(1, m.name);
}

export function decodeNameRequest(r: Reader, end: number): NameRequest {
  const m: NameRequest = { name: '' };
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) m.name = r.string(tag);
    else r.skip(tag);
  }
  return m;
}

/** AuthUserGetResponse and AuthRoleListResponse: header and role names. */
export interface RolesResponse {
  header?: ResponseHeader;
  roles: string[];
}

export type AuthUserGetResponse = RolesResponse;
export type AuthRoleListResponse = RolesResponse;

export function encodeRolesResponse(w: Writer, m: Init<RolesResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.strings(2, m.roles);
}

export function decodeRolesResponse(r: Reader, end: number): RolesResponse {
  const m: RolesResponse = { header: undefined, roles: [] };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.roles.push(r.string(tag)); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface AuthUserListResponse {
  header?: ResponseHeader;
  users: string[];
}

export function encodeAuthUserListResponse(w: Writer, m: Init<AuthUserListResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.strings(2, m.users);
}

export function decodeAuthUserListResponse(r: Reader, end: number): AuthUserListResponse {
  const m: AuthUserListResponse = { header: undefined, users: [] };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.users.push(r.string(tag)); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface AuthUserChangePasswordRequest {
  name: string;
  password: string;
  hashedPassword: string;
}

export function encodeAuthUserChangePasswordRequest(w: Writer, m: Init<AuthUserChangePasswordRequest>): void {
  w.string(1, m.name);
  w.string(2, m.password);
  w.string(3, m.hashedPassword);
}

export function decodeAuthUserChangePasswordRequest(r: Reader, end: number): AuthUserChangePasswordRequest {
  const m: AuthUserChangePasswordRequest = { name: '', password: '', hashedPassword: '' };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.name = r.string(tag); break;
      case 2: m.password = r.string(tag); break;
      case 3: m.hashedPassword = r.string(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface AuthUserGrantRoleRequest {
  user: string;
  role: string;
}

export function encodeAuthUserGrantRoleRequest(w: Writer, m: Init<AuthUserGrantRoleRequest>): void {
  w.string(1, m.user);
  w.string(2, m.role);
}

export function decodeAuthUserGrantRoleRequest(r: Reader, end: number): AuthUserGrantRoleRequest {
  const m: AuthUserGrantRoleRequest = { user: '', role: '' };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.user = r.string(tag); break;
      case 2: m.role = r.string(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface AuthUserRevokeRoleRequest {
  name: string;
  role: string;
}

export function encodeAuthUserRevokeRoleRequest(w: Writer, m: Init<AuthUserRevokeRoleRequest>): void {
  w.string(1, m.name);
  w.string(2, m.role);
}

export function decodeAuthUserRevokeRoleRequest(r: Reader, end: number): AuthUserRevokeRoleRequest {
  const m: AuthUserRevokeRoleRequest = { name: '', role: '' };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.name = r.string(tag); break;
      case 2: m.role = r.string(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

// ---- roles

/** AuthRoleGetRequest and AuthRoleDeleteRequest: a role name in field 1. */
export interface RoleRequest {
  role: string;
}

export type AuthRoleGetRequest = RoleRequest;
export type AuthRoleDeleteRequest = RoleRequest;

export function encodeRoleRequest(w: Writer, m: Init<RoleRequest>): void {
  w.string(1, m.role);
}

export function decodeRoleRequest(r: Reader, end: number): RoleRequest {
  const m: RoleRequest = { role: '' };
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) m.role = r.string(tag);
    else r.skip(tag);
  }
  return m;
}

export interface AuthRoleGetResponse {
  header?: ResponseHeader;
  perm: Permission[];
}

export function encodeAuthRoleGetResponse(w: Writer, m: Init<AuthRoleGetResponse>): void {
  w.message(1, m.header, encodeResponseHeader);
  w.messages(2, m.perm, encodePermission);
}

export function decodeAuthRoleGetResponse(r: Reader, end: number): AuthRoleGetResponse {
  const m: AuthRoleGetResponse = { header: undefined, perm: [] };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.header = r.message(tag, decodeResponseHeader); break;
      case 2: m.perm.push(r.message(tag, decodePermission)); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface AuthRoleGrantPermissionRequest {
  name: string;
  perm?: Permission;
}

export function encodeAuthRoleGrantPermissionRequest(w: Writer, m: Init<AuthRoleGrantPermissionRequest>): void {
  w.string(1, m.name);
  w.message(2, m.perm, encodePermission);
}

export function decodeAuthRoleGrantPermissionRequest(r: Reader, end: number): AuthRoleGrantPermissionRequest {
  const m: AuthRoleGrantPermissionRequest = { name: '', perm: undefined };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.name = r.string(tag); break;
      case 2: m.perm = r.message(tag, decodePermission); break;
      default: r.skip(tag);
    }
  }
  return m;
}

export interface AuthRoleRevokePermissionRequest {
  role: string;
  key: Buffer;
  rangeEnd: Buffer;
}

export function encodeAuthRoleRevokePermissionRequest(w: Writer, m: Init<AuthRoleRevokePermissionRequest>): void {
  w.string(1, m.role);
  w.bytes(2, m.key);
  w.bytes(3, m.rangeEnd);
}

export function decodeAuthRoleRevokePermissionRequest(r: Reader, end: number): AuthRoleRevokePermissionRequest {
  const m: AuthRoleRevokePermissionRequest = { role: '', key: EMPTY_BYTES, rangeEnd: EMPTY_BYTES };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1: m.role = r.string(tag); break;
      case 2: m.key = r.bytes(tag); break;
      case 3: m.rangeEnd = r.bytes(tag); break;
      default: r.skip(tag);
    }
  }
  return m;
}

const pb = 'etcdserverpb.';
export const UserAddOptionsCodec = codec('authpb.UserAddOptions', encodeUserAddOptions, decodeUserAddOptions);
export const PermissionCodec = codec('authpb.Permission', encodePermission, decodePermission);
export const AuthEnableRequestCodec = emptyCodec(pb + 'AuthEnableRequest');
export const AuthEnableResponseCodec = headerOnlyCodec(pb + 'AuthEnableResponse');
export const AuthDisableRequestCodec = emptyCodec(pb + 'AuthDisableRequest');
export const AuthDisableResponseCodec = headerOnlyCodec(pb + 'AuthDisableResponse');
export const AuthStatusRequestCodec = emptyCodec(pb + 'AuthStatusRequest');
export const AuthStatusResponseCodec = codec(pb + 'AuthStatusResponse', encodeAuthStatusResponse, decodeAuthStatusResponse);
export const AuthenticateRequestCodec = codec(pb + 'AuthenticateRequest', encodeAuthenticateRequest, decodeAuthenticateRequest);
export const AuthenticateResponseCodec = codec(pb + 'AuthenticateResponse', encodeAuthenticateResponse, decodeAuthenticateResponse);
export const AuthUserAddRequestCodec = codec(pb + 'AuthUserAddRequest', encodeAuthUserAddRequest, decodeAuthUserAddRequest);
export const AuthUserAddResponseCodec = headerOnlyCodec(pb + 'AuthUserAddResponse');
export const AuthUserGetRequestCodec = codec<AuthUserGetRequest>(pb + 'AuthUserGetRequest', encodeNameRequest, decodeNameRequest);
export const AuthUserGetResponseCodec = codec<AuthUserGetResponse>(pb + 'AuthUserGetResponse', encodeRolesResponse, decodeRolesResponse);
export const AuthUserListRequestCodec = emptyCodec(pb + 'AuthUserListRequest');
export const AuthUserListResponseCodec = codec(pb + 'AuthUserListResponse', encodeAuthUserListResponse, decodeAuthUserListResponse);
export const AuthUserDeleteRequestCodec = codec<AuthUserDeleteRequest>(pb + 'AuthUserDeleteRequest', encodeNameRequest, decodeNameRequest);
export const AuthUserDeleteResponseCodec = headerOnlyCodec(pb + 'AuthUserDeleteResponse');
export const AuthUserChangePasswordRequestCodec = codec(pb + 'AuthUserChangePasswordRequest', encodeAuthUserChangePasswordRequest, decodeAuthUserChangePasswordRequest);
export const AuthUserChangePasswordResponseCodec = headerOnlyCodec(pb + 'AuthUserChangePasswordResponse');
export const AuthUserGrantRoleRequestCodec = codec(pb + 'AuthUserGrantRoleRequest', encodeAuthUserGrantRoleRequest, decodeAuthUserGrantRoleRequest);
export const AuthUserGrantRoleResponseCodec = headerOnlyCodec(pb + 'AuthUserGrantRoleResponse');
export const AuthUserRevokeRoleRequestCodec = codec(pb + 'AuthUserRevokeRoleRequest', encodeAuthUserRevokeRoleRequest, decodeAuthUserRevokeRoleRequest);
export const AuthUserRevokeRoleResponseCodec = headerOnlyCodec(pb + 'AuthUserRevokeRoleResponse');
export const AuthRoleAddRequestCodec = codec<AuthRoleAddRequest>(pb + 'AuthRoleAddRequest', encodeNameRequest, decodeNameRequest);
export const AuthRoleAddResponseCodec = headerOnlyCodec(pb + 'AuthRoleAddResponse');
export const AuthRoleGetRequestCodec = codec<AuthRoleGetRequest>(pb + 'AuthRoleGetRequest', encodeRoleRequest, decodeRoleRequest);
export const AuthRoleGetResponseCodec = codec(pb + 'AuthRoleGetResponse', encodeAuthRoleGetResponse, decodeAuthRoleGetResponse);
export const AuthRoleListRequestCodec = emptyCodec(pb + 'AuthRoleListRequest');
export const AuthRoleListResponseCodec = codec<AuthRoleListResponse>(pb + 'AuthRoleListResponse', encodeRolesResponse, decodeRolesResponse);
export const AuthRoleDeleteRequestCodec = codec<AuthRoleDeleteRequest>(pb + 'AuthRoleDeleteRequest', encodeRoleRequest, decodeRoleRequest);
export const AuthRoleDeleteResponseCodec = headerOnlyCodec(pb + 'AuthRoleDeleteResponse');
export const AuthRoleGrantPermissionRequestCodec = codec(pb + 'AuthRoleGrantPermissionRequest', encodeAuthRoleGrantPermissionRequest, decodeAuthRoleGrantPermissionRequest);
export const AuthRoleGrantPermissionResponseCodec = headerOnlyCodec(pb + 'AuthRoleGrantPermissionResponse');
export const AuthRoleRevokePermissionRequestCodec = codec(pb + 'AuthRoleRevokePermissionRequest', encodeAuthRoleRevokePermissionRequest, decodeAuthRoleRevokePermissionRequest);
export const AuthRoleRevokePermissionResponseCodec = headerOnlyCodec(pb + 'AuthRoleRevokePermissionResponse');
