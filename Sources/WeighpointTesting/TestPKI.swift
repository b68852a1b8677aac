import Foundation

/// A throwaway PKI made with the openssl command line: a CA; the server certificate for
/// 127.0.0.1/localhost (the receiver's, or the unit's TLS listener's); client certificates from
/// the CA: `client` (the unit's, to the case system) and `anpr-front-1` (a camera's); and a
/// client certificate from a different ("rogue") CA.
public struct TestPKI: Sendable {
    public static let openssl = "/usr/bin/openssl"
    public let dir: String
    public var ca: String { dir + "/ca.pem" }
    public var serverCert: String { dir + "/server.pem" }
    public var serverKey: String { dir + "/server.key" }
    public var clientCert: String { dir + "/client.pem" }
    public var clientKey: String { dir + "/client.key" }
    public var cameraCert: String { dir + "/anpr-front-1.pem" }
    public var cameraKey: String { dir + "/anpr-front-1.key" }
    public var rogueCert: String { dir + "/rogue-client.pem" }
    public var rogueKey: String { dir + "/rogue-client.key" }

    public init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("wp-pki-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let dir = self.dir
        func ossl(_ args: [String]) throws {
            let r = try runProcess(Self.openssl, args)
            guard r.status == 0 else { throw PKIError(message: "openssl \(args.joined(separator: " ")): \(r.stderr)") }
        }
        for ca in ["ca", "rogue-ca"] {
            try ossl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(dir)/\(ca).key", "-out", "\(dir)/\(ca).pem", "-days", "2", "-subj", "/CN=\(ca)"])
        }
        func issue(_ name: String, ca: String, ext: String) throws {
            try ossl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).csr", "-subj", "/CN=\(name)"])
            try ext.write(toFile: "\(dir)/\(name).ext", atomically: true, encoding: .utf8)
            try ossl(["x509", "-req", "-in", "\(dir)/\(name).csr", "-CA", "\(dir)/\(ca).pem", "-CAkey", "\(dir)/\(ca).key", "-CAcreateserial", "-out", "\(dir)/\(name).pem", "-days", "2", "-extfile", "\(dir)/\(name).ext"])
        }
        try issue("server", ca: "ca", ext: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        try issue("client", ca: "ca", ext: "extendedKeyUsage=clientAuth\n")
        try issue("anpr-front-1", ca: "ca", ext: "extendedKeyUsage=clientAuth\n")
        try issue("rogue-client", ca: "rogue-ca", ext: "extendedKeyUsage=clientAuth\n")
    }

    public struct PKIError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }
}
