using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GracefulHosting.Hosting;

internal static class MasterServices
{
    // OpenTelemetry's stay, to export the master's own metrics; Kestrel and the middleware go, as they start from a hosted service.
    public static void RemoveAppServices(IServiceCollection services)
    {
        var kept = services
            .Where(d => d.ServiceType == typeof(MasterServiceMarker) && d.ImplementationInstance is MasterServiceMarker)
            .Select(d => ((MasterServiceMarker)d.ImplementationInstance!).ImplementationType)
            .ToHashSet();
        for (int i = services.Count - 1; i >= 0; i--)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType == typeof(IHostedService) && !KeepsRunning(descriptor, kept))
            {
                services.RemoveAt(i);
            }
        }
    }

    private static bool KeepsRunning(ServiceDescriptor descriptor, HashSet<Type> kept)
    {
        var type = descriptor.IsKeyedService
            ? descriptor.KeyedImplementationType ?? descriptor.KeyedImplementationInstance?.GetType()
            : descriptor.ImplementationType ?? descriptor.ImplementationInstance?.GetType();
        return type is not null && (kept.Contains(type) || IsOpenTelemetry(type));
    }

    internal static bool IsOpenTelemetry(Type type)
    {
        string? assembly = type.Assembly.GetName().Name;
        return assembly is not null
            && (assembly == "OpenTelemetry" || assembly.StartsWith("OpenTelemetry.", StringComparison.Ordinal));
    }
}
