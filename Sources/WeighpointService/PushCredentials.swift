import Foundation
import WeighpointCore
import WeighpointCrypto

/// A credential a camera (or a recogniser box) presents to push plate reads, as configured in
/// its `[[cameras]] credentials`:
/// - `certificate:SHA256`: the SHA-256 fingerprint of its client certificate (hex, colons allowed);
/// - `subject:DN`: the subject of its client certificate, RFC 2253 (`CN=anpr-front-1,O=…`);
/// - `token:SHA256`: the SHA-256 (hex) of a bearer token; the unit keeps no token itself.
/// A client certificate must also chain to `[http] tls_client_ca`: the TLS handshake checks that
/// before a credential is looked at. The same credential may be given to several cameras (a box
/// that reads for a lane's front and rear cameras).
public enum PushCredential: Hashable, Sendable, CustomStringConvertible {
    case certificate(sha256: String)
    case subject(String)
    case token(sha256: String)

    /// Parses the configured form; the error says what is wrong.
    public static func parse(_ s: String) -> Result<PushCredential, ConfigText> {
        func hex(_ v: Substring) -> String? {
            let h = v.filter { $0 != ":" }.uppercased()
            return h.count == 64 && h.allSatisfy(\.isHexDigit) ? h : nil
        }
        guard let colon = s.firstIndex(of: ":") else { return .failure(ConfigText("'\(s.prefix(40))' is not certificate:SHA256, subject:DN or token:SHA256")) }
        let kind = s[..<colon], value = s[s.index(after: colon)...]
        switch kind {
        case "certificate":
            guard let h = hex(value) else { return .failure(ConfigText("certificate: needs the certificate's SHA-256 fingerprint, 64 hex digits (weighpoint credential certificate FILE)")) }
            return .success(.certificate(sha256: h))
        case "subject":
            guard !value.isEmpty, value.contains("=") else { return .failure(ConfigText("subject: needs an RFC 2253 subject such as CN=anpr-front-1,O=station")) }
            return .success(.subject(String(value)))
        case "token":
            guard let h = hex(value) else { return .failure(ConfigText("token: needs the token's SHA-256, 64 hex digits (weighpoint credential token)")) }
            return .success(.token(sha256: h))
        default:
            return .failure(ConfigText("'\(kind.prefix(20))' is not certificate, subject or token"))
        }
    }

    /// A new bearer token: 32 random bytes, base64url without padding (43 characters).
    public static func newToken() -> String {
        Data(SecureRandom.bytes(32)).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The credential of a bearer token, as configured: `token:` and the token's SHA-256.
    public static func configured(token: String) -> String {
        "token:" + ((try? Digest.hexDigest(of: Array(token.utf8))) ?? "")
    }

    /// The credentials of a client certificate, as configured: by fingerprint and by subject.
    public static func configured(certificate: CertificateIdentity) -> [String] {
        ["certificate:" + certificate.sha256, "subject:" + certificate.subject]
    }

    public var needsCertificate: Bool {
        if case .token = self { return false }
        return true
    }

    /// As recorded in a read's provenance and logged: a token by the first 16 hex digits of its
    /// hash only (enough to tell which one, nothing to present).
    public var description: String {
        switch self {
        case .certificate(let h): return "certificate:\(h)"
        case .subject(let s): return "subject:\(s)"
        case .token(let h): return "token:\(h.prefix(16).lowercased())"
        }
    }
}

/// A configuration message, for a `Result` failure.
public struct ConfigText: Error, CustomStringConvertible {
    public let description: String
    init(_ s: String) { description = s }
}

/// Who sent a request of plate reads, once authenticated: the credential, the cameras it may
/// report for, the transport and the address.
public struct ReadSender: Sendable, Equatable {
    public var credential: String
    public var cameras: Set<String>
    public var transport: String
    public var address: String

    public init(credential: String, cameras: Set<String>, transport: String, address: String) {
        self.credential = credential
        self.cameras = cameras
        self.transport = transport
        self.address = address
    }

    public var provenance: ReadProvenance { ReadProvenance(credential: credential, transport: transport, address: address) }
}

/// Maps a request's credential to the cameras it may post reads for. A client certificate that
/// names a configured credential wins; otherwise `Authorization: Bearer TOKEN` is looked up by
/// the token's SHA-256. Nothing else authenticates.
public struct PushAuthorizer: Sendable {
    let cameras: [PushCredential: Set<String>]

    public init(_ config: [StationConfig.CameraConfig]) {
        var m: [PushCredential: Set<String>] = [:]
        for c in config where c.plates == .pushed {
            for cred in c.credentials { m[cred, default: []].insert(c.id) }
        }
        cameras = m
    }

    /// Whether any credential is a certificate's (the TLS listener then asks for one).
    public var wantsCertificates: Bool { cameras.keys.contains(where: \.needsCertificate) }

    public enum Refusal: Error, Equatable {
        /// No credential, or one the unit does not know: 401.
        case unauthenticated(String)
    }

    /// The sender, or why not. `certificate` is the peer's certificate as the TLS handshake
    /// validated it; `authorization` the request's Authorization header.
    public func sender(certificate: CertificateIdentity?, authorization: String?, address: String) -> Result<ReadSender, Refusal> {
        if let certificate {
            for cred in [PushCredential.certificate(sha256: certificate.sha256), .subject(certificate.subject)] {
                if let cams = cameras[cred] {
                    return .success(ReadSender(credential: cred.description, cameras: cams, transport: "https-client-certificate", address: address))
                }
            }
        }
        if let authorization {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer", let hash = try? Digest.hexDigest(of: Array(parts[1].utf8)) else {
                return .failure(.unauthenticated("the Authorization header is not 'Bearer TOKEN'"))
            }
            guard let cams = cameras[.token(sha256: hash.uppercased())] else { return .failure(.unauthenticated("the bearer token is not a credential of any camera")) }
            let cred = PushCredential.token(sha256: hash.uppercased())
            return .success(ReadSender(credential: cred.description, cameras: cams, transport: "https-bearer-token", address: address))
        }
        if let certificate {
            return .failure(.unauthenticated("the client certificate (sha256 \(certificate.sha256.prefix(16))…, subject \(certificate.subject.prefix(80))) is not a credential of any camera"))
        }
        return .failure(.unauthenticated("a credential is needed: a camera's client certificate or its bearer token"))
    }
}
