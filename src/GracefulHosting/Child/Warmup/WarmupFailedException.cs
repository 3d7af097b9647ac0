namespace GracefulHosting.Child.Warmup;

/// <summary>The warm-up could not be done; the message says why, and the generation does not start.</summary>
internal sealed class WarmupFailedException(string message, Exception? inner = null) : Exception(message, inner);
