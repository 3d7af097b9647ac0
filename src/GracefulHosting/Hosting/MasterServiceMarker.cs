namespace GracefulHosting.Hosting;

/// <summary>Marks a hosted service of the app that also runs in the master (<c>AddGracefulRestartMasterService</c>).</summary>
internal sealed record MasterServiceMarker(Type ImplementationType);
