using System.Reflection;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulHosting.Hosting;

/// <summary>The facts about the app that <see cref="RoleDetector"/> needs, read from public sources.</summary>
internal static class RoleFacts
{
    /// <summary>
    /// True when the server the host will start, the last <see cref="IServer"/> registered, comes from
    /// Kestrel's own assembly (as <c>UseKestrel()</c> registers it). False for TestServer, IIS, a server
    /// registered through a factory method, and for a host with no server at all, such as a worker.
    /// </summary>
    public static bool KestrelServes(IServiceCollection services)
    {
        var server = services.LastOrDefault(d => d.ServiceType == typeof(IServer) && !d.IsKeyedService);
        if (server is null)
        {
            return false;
        }

        var type = server.ImplementationType
            ?? server.ImplementationInstance?.GetType()
            ?? server.ImplementationFactory?.Method.ReturnType;
        return type is not null && type.Assembly == typeof(KestrelServerOptions).Assembly;
    }

    /// <summary>
    /// True when the app's own program is not the one this process runs: its assembly, named by the
    /// host's application name, is an executable that another entry assembly loaded, as
    /// <c>WebApplicationFactory</c> runs an app inside the test host. Running this process's command
    /// line again would then start the test host, not the app.
    /// </summary>
    public static bool RunByAnotherProgram(string? applicationName) =>
        RunByAnotherProgram(applicationName, Assembly.GetEntryAssembly(), AppDomain.CurrentDomain.GetAssemblies());

    internal static bool RunByAnotherProgram(string? applicationName, Assembly? entryAssembly, IEnumerable<Assembly> loaded)
    {
        if (string.IsNullOrEmpty(applicationName) || entryAssembly is null
            || string.Equals(entryAssembly.GetName().Name, applicationName, StringComparison.Ordinal))
        {
            return false;
        }

        // An application name the app chose itself names no loaded program: that app is still the entry.
        return loaded.Any(a => a != entryAssembly && a.EntryPoint is not null
            && string.Equals(a.GetName().Name, applicationName, StringComparison.Ordinal));
    }
}
