using System.Runtime.Versioning;
using GracefulHosting.Child;
using GracefulHosting.Endpoints;
using GracefulHosting.Master;
using GracefulHosting.Systemd;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GracefulHosting.Hosting;

/// <summary>
/// Applies the role to the finished service collection. This runs when the host is built, after
/// every registration of the app, so the master can leave out all of the app's hosted services and
/// the child can put the inherited sockets under Kestrel.
/// </summary>
internal sealed class GracefulRestartSetup
{
    private const string KestrelServerTypeName = "Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerImpl";
    private readonly Action<GracefulRestartOptions>? _configure;

    public GracefulRestartSetup(Action<GracefulRestartOptions>? configure) => _configure = configure;

    public GracefulRestartOptions BindOptions(IConfiguration configuration)
    {
        var options = new GracefulRestartOptions();
        configuration.GetSection(GracefulRestartOptions.SectionName).Bind(options);
        _configure?.Invoke(options);
        return options;
    }

    public void RegisterOptions(IServiceCollection services, IConfiguration configuration)
    {
        var builder = services.AddOptions<GracefulRestartOptions>()
            .Bind(configuration.GetSection(GracefulRestartOptions.SectionName));
        if (_configure is not null)
        {
            builder.Configure(_configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GracefulRestartOptions>, GracefulRestartOptionsValidator>());
    }

    public void Apply(IServiceCollection services, IConfiguration configuration)
    {
        var options = BindOptions(configuration);
        if (options.Enabled && options.Mode != GracefulRestartMode.Disabled)
        {
            var result = new GracefulRestartOptionsValidator().Validate(Options.DefaultName, options);
            if (result.Failed)
            {
                throw new OptionsValidationException(Options.DefaultName, typeof(GracefulRestartOptions), result.Failures);
            }
        }

        string? marker = Environment.GetEnvironmentVariable(ChildMarker.VariableName);
        var inputs = new RoleInputs(OperatingSystem.IsLinux(), !string.IsNullOrEmpty(marker), IsUnderTestServer(services));
        var role = RoleDetector.Detect(options, inputs);
        int generation = 0;

        if (OperatingSystem.IsLinux())
        {
            switch (role)
            {
                case GracefulRestartRole.Master:
                    ApplyMaster(services, options);
                    break;
                case GracefulRestartRole.Child:
                    generation = ApplyChild(services, ValidateMarker(marker!), options, configuration);
                    break;
                case GracefulRestartRole.Direct:
                    ApplyChild(services, new InheritedSockets(new ChildMarker(0, -1, [])), options, configuration, FindActivationForDirect());
                    break;
            }
        }

        var context = new GracefulRestartContext(role, generation);
        services.AddSingleton(context);
        services.AddSingleton<Serilog.Core.ILogEventEnricher>(new Diagnostics.GracefulRestartEnricher(context));
    }

    /// <summary>
    /// True when another server replaced Kestrel, as TestServer does under WebApplicationFactory
    /// (which registers it through a factory method); a master or child needs Kestrel.
    /// </summary>
    private static bool IsUnderTestServer(IServiceCollection services)
    {
        var server = services.LastOrDefault(d => d.ServiceType == typeof(IServer) && !d.IsKeyedService);
        if (server is null)
        {
            return false;
        }

        var type = server.ImplementationType
            ?? server.ImplementationInstance?.GetType()
            ?? server.ImplementationFactory?.Method.ReturnType;
        return type is null || type.FullName != KestrelServerTypeName;
    }

    [SupportedOSPlatform("linux")]
    private static void ApplyMaster(IServiceCollection services, GracefulRestartOptions options)
    {
        // The master runs none of the app: no Kestrel, no middleware (both start from a hosted
        // service), no background services. Only the supervisor.
        for (int i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(IHostedService))
            {
                services.RemoveAt(i);
            }
        }

        services.AddSingleton(ChildCommand.FromCurrentProcess());
        services.AddSingleton<KestrelEndpointProbe>();
        FreezeKestrelReload(services);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new ServiceNotifier(new SystemdNotifier(), sp.GetRequiredService<TimeProvider>()));
        services.AddMetrics();
        services.AddSingleton<Diagnostics.MasterMetrics>();
        services.AddSingleton<MasterService>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<MasterService>());
        services.PostConfigure<HostOptions>(host => host.ShutdownTimeout = options.ExitTimeout + TimeSpan.FromSeconds(15));
    }

    [SupportedOSPlatform("linux")]
    private static InheritedSockets ValidateMarker(string markerText)
    {
        try
        {
            var sockets = InheritedSockets.Validate(ChildMarker.Parse(markerText));
            // The app's own subprocesses must not take this process for a child.
            Environment.SetEnvironmentVariable(ChildMarker.VariableName, null);
            return sockets;
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            // A child with bad descriptors must not serve, and must not look like a crash.
            Console.Error.WriteLine($"GracefulHosting: cannot start as a child: {e.Message}");
            Environment.Exit(1);
            throw;
        }
    }

    /// <summary>
    /// Direct mode: this process serves on systemd's sockets itself, with no master. They are matched to
    /// the endpoints of the app's Kestrel when the host starts (<see cref="InheritedSocketsSetup"/>).
    /// </summary>
    [SupportedOSPlatform("linux")]
    private static SocketActivation FindActivationForDirect() =>
        SocketActivation.FromEnvironment(Environment.ProcessId, out string? ignored)
            ?? throw new InvalidOperationException(
                "GracefulRestart:Mode=Direct serves on sockets passed by systemd, but this process has none" +
                (ignored is null ? " (LISTEN_FDS is not set)." : $": {ignored}."));

    [SupportedOSPlatform("linux")]
    private static int ApplyChild(IServiceCollection services, InheritedSockets sockets, GracefulRestartOptions options, IConfiguration configuration,
        SocketActivation? direct = null)
    {
        if (direct is null)
        {
            services.AddSingleton<IHostedService, InheritedSocketsSetup>();
        }
        else
        {
            services.AddSingleton<KestrelEndpointProbe>();
            services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<InheritedSocketsSetup>(
                sp, sp.GetRequiredService<KestrelEndpointProbe>(), direct));
        }

        services.AddSingleton(sockets);
        services.AddSingleton<ChildListeners>();
        services.AddSingleton<DrainState>();
        services.AddSingleton(new ChildWarmup(string.IsNullOrEmpty(options.WarmupPath) ? null : options.WarmupPath, PlainHttpAddresses(configuration)));
        services.TryAddSingleton(TimeProvider.System);
        services.AddTransient<IStartupFilter, DrainStartupFilter>();
        for (int i = 0; i < services.Count; i++)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType == typeof(IConnectionListenerFactory) && !descriptor.IsKeyedService)
            {
                services[i] = ServiceDescriptor.Singleton<IConnectionListenerFactory>(sp => new InheritedListenerFactory(
                    (IConnectionListenerFactory)CreateInner(sp, descriptor),
                    sp.GetRequiredService<InheritedSockets>(),
                    sp.GetRequiredService<ChildListeners>(),
                    sp.GetRequiredService<DrainState>(),
                    sp.GetRequiredService<ChildWarmup>()));
            }
        }

        FreezeKestrelReload(services);
        services.TryAddSingleton(sp => new ServiceNotifier(new SystemdNotifier(), sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService<ChildService>();

        // Kestrel aborts what is left of the drain a little before the master's SIGKILL would.
        var margin = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(1).Ticks, options.ExitTimeout.Ticks / 5));
        services.PostConfigure<HostOptions>(host => host.ShutdownTimeout = options.ExitTimeout - margin);
        return sockets.Marker.Generation;
    }

    /// <summary>
    /// Addresses of configured endpoints that speak plain HTTP/1.1 (http:// and HTTP/1 allowed), read
    /// from configuration for the warm-up; none when the configuration has endpoints it does not read
    /// (Unix domain sockets), so that the warm-up is skipped rather than the child stopped.
    /// </summary>
    private static HashSet<System.Net.IPEndPoint> PlainHttpAddresses(IConfiguration configuration)
    {
        var result = new HashSet<System.Net.IPEndPoint>();
        string? defaults = configuration["Kestrel:EndpointDefaults:Protocols"];
        IReadOnlyList<ListenEndpoint> endpoints;
        try
        {
            endpoints = EndpointResolver.Resolve(configuration);
        }
        catch (InvalidOperationException)
        {
            return result;
        }

        foreach (var endpoint in endpoints)
        {
            string? protocols = endpoint.Source.StartsWith("Kestrel:Endpoints:", StringComparison.Ordinal)
                ? configuration[$"Kestrel:Endpoints:{endpoint.Name}:Protocols"] ?? defaults
                : defaults;
            bool http1 = protocols is null || protocols.Contains("Http1", StringComparison.OrdinalIgnoreCase);
            if (http1 && endpoint.Url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            {
                result.UnionWith(endpoint.Targets.Select(t => t.EndPoint));
            }
        }

        return result;
    }

    /// <summary>
    /// A generation serves the endpoints it was started with, which Kestrel's own live reload would drop;
    /// the master builds Kestrel's options the same way (see <see cref="KestrelReloadFreeze"/>).
    /// </summary>
    private static void FreezeKestrelReload(IServiceCollection services)
    {
        var freeze = new KestrelReloadFreeze();
        for (int i = 0; i < services.Count; i++)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType == typeof(IConfigureOptions<KestrelServerOptions>) && !descriptor.IsKeyedService)
            {
                services[i] = ServiceDescriptor.Describe(typeof(IConfigureOptions<KestrelServerOptions>),
                    sp => freeze.Wrap((IConfigureOptions<KestrelServerOptions>)CreateInner(sp, descriptor)), descriptor.Lifetime);
            }
        }
    }

    private static object CreateInner(IServiceProvider provider, ServiceDescriptor descriptor) =>
        descriptor.ImplementationInstance
            ?? descriptor.ImplementationFactory?.Invoke(provider)
            ?? ActivatorUtilities.CreateInstance(provider, descriptor.ImplementationType!);
}
