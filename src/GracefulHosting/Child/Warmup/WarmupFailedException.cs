namespace GracefulHosting.Child.Warmup;

internal sealed class WarmupFailedException(string message, Exception? inner = null) : Exception(message, inner);
