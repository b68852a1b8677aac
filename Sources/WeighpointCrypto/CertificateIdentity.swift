import COpenSSL
import Foundation

/// Who an X.509 certificate names, as a peer's credential is configured and recorded: the
/// SHA-256 fingerprint of its DER encoding (what `openssl x509 -noout -fingerprint -sha256`
/// prints, without the colons) and its subject in RFC 2253 form, UTF-8 kept.
public struct CertificateIdentity: Sendable, Hashable, CustomStringConvertible {
    /// Upper-case hexadecimal, 64 characters.
    public let sha256: String
    public let subject: String

    /// Parses one DER certificate; nil when it is not one.
    public init?(der: [UInt8]) {
        var out = [CChar](repeating: 0, count: 4096)
        let n = der.withUnsafeBufferPointer { d in wp_x509_subject(d.baseAddress, d.count, &out, out.count) }
        ERR_clear_error()
        guard n >= 0, let hex = try? Digest.hexDigest(of: der) else { return nil }
        sha256 = hex.uppercased()
        subject = String(decoding: out.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The certificates of a PEM file, in order. Throws naming the file.
    public static func fromPEMFile(_ path: String) throws -> [CertificateIdentity] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw CertificateFileError(path: path, message: "cannot read the file") }
        var out: [CertificateIdentity] = []
        let begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----"
        var rest = Substring(text)
        while let b = rest.range(of: begin), let e = rest.range(of: end, range: b.upperBound..<rest.endIndex) {
            let body = rest[b.upperBound..<e.lowerBound].filter { !$0.isWhitespace }
            guard let der = Data(base64Encoded: String(body)), let id = CertificateIdentity(der: [UInt8](der)) else {
                throw CertificateFileError(path: path, message: "certificate \(out.count + 1) is not a valid X.509 certificate")
            }
            out.append(id)
            rest = rest[e.upperBound...]
        }
        guard !out.isEmpty else { throw CertificateFileError(path: path, message: "no PEM certificate in the file") }
        return out
    }

    public var description: String { "sha256 \(sha256) subject \(subject)" }
}

public struct CertificateFileError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
}

/// Random bytes from OpenSSL's CSPRNG (tokens, salts).
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        precondition(RAND_bytes(&out, Int32(count)) == 1, "OpenSSL RAND_bytes failed")
        return out
    }
}
