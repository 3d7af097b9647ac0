namespace GracefulHosting.Hosting;

/// <summary>The role and generation of this process, registered in every role as <see cref="IGracefulRestartContext"/>.</summary>
internal sealed record GracefulRestartContext(GracefulRestartRole Role, int Generation) : IGracefulRestartContext;
