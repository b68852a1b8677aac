import COpenSSL

/// The OpenSSL libcrypto this binary runs with.
public enum OpenSSLLibrary {
    /// e.g. "OpenSSL 3.0.17 1 Jul 2025".
    public static var version: String { String(cString: OpenSSL_version(OPENSSL_VERSION)) }
}
