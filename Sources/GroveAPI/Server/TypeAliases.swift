import GroveModel

// Hummingbird also exports an `Environment` (process environment); in this module the name means the platform's.
typealias Environment = GroveModel.Environment
