/// Why a name could not be registered: it is taken (``existingServer`` says by whom), or the server has ended.
///
/// ```swift
/// do { try registry.register("cache", server) }
/// catch let error as RegistryError where error.code == .alreadyRegistered {
///     let current = error.existingServer   // the server holding the name
/// }
/// ```
///
/// The code is a ``StateServerError/Code`` (``StateServerError/Code/alreadyRegistered`` or
/// ``StateServerError/Code/noSuchServer``), so it reads like every other error of the module; ``stateServerError``
/// converts it.
///
/// Concurrency: an immutable value; `Sendable`.
public struct RegistryError: Error, Sendable, CustomStringConvertible {
    /// `alreadyRegistered` or `noSuchServer`.
    public var code: StateServerError.Code
    /// A human-readable explanation naming the key and the servers involved.
    public var message: String
    /// The server holding the name (`alreadyRegistered`), or `nil` while the name is reserved by a
    /// start-and-register still in progress.
    public var existingServer: (any ServerHandle)?

    /// Creates an error.
    public init(_ code: StateServerError.Code, _ message: String, existingServer: (any ServerHandle)? = nil) {
        self.code = code
        self.message = message
        self.existingServer = existingServer
    }

    /// The same error as a ``StateServerError`` (without the existing server).
    public var stateServerError: StateServerError { StateServerError(code, message) }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }
}
