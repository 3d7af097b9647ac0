namespace GracefulHosting.Hosting;

/// <summary>
/// The facts the role depends on, gathered so the decision itself is a pure function.
/// </summary>
/// <param name="IsLinux">The process runs on Linux.</param>
/// <param name="HasChildMarker">A master started this process (its marker variable is set).</param>
/// <param name="KestrelServes">The app's server, the last <c>IServer</c> registered, is Kestrel's; false with no server at all.</param>
/// <param name="RunByAnotherProgram">The app is run inside another program, as <c>WebApplicationFactory</c> runs it inside a test host.</param>
internal readonly record struct RoleInputs(bool IsLinux, bool HasChildMarker, bool KestrelServes, bool RunByAnotherProgram);
