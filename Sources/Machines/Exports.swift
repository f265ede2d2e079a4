@_exported import StateServer
