namespace GracefulHosting.Hosting;

// Gathered so that the decision itself is a pure function.
internal readonly record struct RoleInputs(bool IsLinux, bool HasChildMarker, bool KestrelServes, bool RunByAnotherProgram);
