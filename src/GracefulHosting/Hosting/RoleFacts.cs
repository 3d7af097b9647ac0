using System.Reflection;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulHosting.Hosting;

// Read from public sources only.
internal static class RoleFacts
{
    // The last IServer registered comes from Kestrel's assembly: false for TestServer, IIS, a factory registration or no server at all.
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

    // As WebApplicationFactory runs an app in the test host: running this command line again would start the test host, not the app.
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
