namespace GracefulHosting.Hosting;

// Registered in every role.
internal sealed record GracefulRestartContext(GracefulRestartRole Role, int Generation) : IGracefulRestartContext;
