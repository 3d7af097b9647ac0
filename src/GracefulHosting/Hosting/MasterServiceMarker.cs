namespace GracefulHosting.Hosting;

// Added by AddGracefulRestartMasterService: a hosted service of the app that also runs in the master.
internal sealed record MasterServiceMarker(Type ImplementationType);
