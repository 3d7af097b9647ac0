using System.Runtime.Versioning;
using GracefulHosting.Child;
using GracefulHosting.Child.Drain;
using GracefulHosting.Child.Sockets;
using GracefulHosting.Child.Warmup;
using GracefulHosting.Endpoints;
using GracefulHosting.Master;
using GracefulHosting.Systemd;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulHosting.Hosting;

// Applied at host build, after every registration of the app; until then a guard stops the host, so no app runs without its master.
internal sealed class GracefulRestartSetup
{
    internal const string NotAppliedMessage =
        "GracefulHosting could not apply its role: AddGracefulRestart() was called, but the host was built " +
        "without the build hook that applies it, so the app would run without a master. Call " +
        "builder.Host.UseGracefulRestart() (WebApplicationBuilder), hostBuilder.UseGracefulRestart() " +
        "(Host.CreateDefaultBuilder, before Build) or builder.Services.AddGracefulRestart() " +
        "(HostApplicationBuilder) on a host built by Microsoft.Extensions.Hosting.";

    // A second call only adds configure.
    public static void Register(IServiceCollection services, Action<GracefulRestartOptions>? configure)
    {
        HostBuildingHook.EnsureListening();
        if (FindPending(services) is null)
        {
            services.AddSingleton(new GracefulRestartSetup());
            services.AddOptions<GracefulRestartOptions>();
            services.AddSingleton<IGracefulRestartContext>(_ => throw new InvalidOperationException(NotAppliedMessage));
            services.AddSingleton<IHostedService, NotAppliedGuard>();
        }

        if (configure is not null)
        {
            services.Configure(configure);
        }
    }

    public static GracefulRestartSetup? FindPending(IServiceCollection services) =>
        services.LastOrDefault(d => d.ServiceType == typeof(GracefulRestartSetup) && !d.IsKeyedService)?.ImplementationInstance as GracefulRestartSetup;

    public static GracefulRestartOptions BindOptions(IServiceCollection services, IConfiguration configuration)
    {
        var options = new GracefulRestartOptions();
        configuration.GetSection(GracefulRestartOptions.SectionName).Bind(options);
        // The role depends on these values and is chosen before the container exists, so steps that
        // need services cannot run; every other step runs here, once.
        foreach (var step in OptionsSteps(services, typeof(IConfigureOptions<GracefulRestartOptions>)))
        {
            if (step is IConfigureNamedOptions<GracefulRestartOptions> named)
            {
                named.Configure(Options.DefaultName, options);
            }
            else
            {
                ((IConfigureOptions<GracefulRestartOptions>)step).Configure(options);
            }
        }

        foreach (var step in OptionsSteps(services, typeof(IPostConfigureOptions<GracefulRestartOptions>)))
        {
            ((IPostConfigureOptions<GracefulRestartOptions>)step).PostConfigure(Options.DefaultName, options);
        }

        return options;
    }

    private static IEnumerable<object> OptionsSteps(IServiceCollection services, Type stepType)
    {
        foreach (var descriptor in services.Where(d => d.ServiceType == stepType && !d.IsKeyedService).ToList())
        {
            yield return descriptor.ImplementationInstance ?? throw new InvalidOperationException(
                $"{nameof(GracefulRestartOptions)} is configured by a step that needs services ({descriptor.ImplementationType?.Name ?? "a factory"}); " +
                "the process's role is chosen from these options before the container is built. Set them in the " +
                $"'{GracefulRestartOptions.SectionName}' configuration section, in AddGracefulRestart(configure) or with " +
                "services.Configure<GracefulRestartOptions>(action).");
        }
    }

    // The container serves the bound, validated options in place of the steps already run.
    private static void ServeBoundOptions(IServiceCollection services, GracefulRestartOptions options)
    {
        services.RemoveAll<IConfigureOptions<GracefulRestartOptions>>();
        services.RemoveAll<IPostConfigureOptions<GracefulRestartOptions>>();
        services.RemoveAll<IValidateOptions<GracefulRestartOptions>>();
        services.RemoveAll<IOptionsChangeTokenSource<GracefulRestartOptions>>();
        services.AddSingleton<IOptionsFactory<GracefulRestartOptions>>(new BoundOptionsFactory(options));
    }

    public void Apply(IServiceCollection services, IConfiguration configuration, string? applicationName = null)
    {
        var options = BindOptions(services, configuration);
        if (options.Enabled && options.Mode != GracefulRestartMode.Disabled)
        {
            var result = new GracefulRestartOptionsValidator().Validate(Options.DefaultName, options);
            if (result.Failed)
            {
                throw new OptionsValidationException(Options.DefaultName, typeof(GracefulRestartOptions), result.Failures);
            }
        }

        if (OperatingSystem.IsLinux() && Master.Control.ControlClient.FindVerb(Environment.GetCommandLineArgs()) is { } verb)
        {
            // The app run as a command for its master: it talks to the control socket and exits.
            Environment.Exit(RunControlCommand(verb, options, applicationName));
        }

        RemoveGuards(services);
        ServeBoundOptions(services, options);
        string? marker = GracefulRestartProcess.MarkerText;
        var inputs = new RoleInputs(
            OperatingSystem.IsLinux(),
            !string.IsNullOrEmpty(marker),
            RoleFacts.KestrelServes(services),
            RoleFacts.RunByAnotherProgram(applicationName));
        var role = RoleDetector.Detect(options, inputs);
        int generation = 0;
        if (role is not (GracefulRestartRole.Child or GracefulRestartRole.Direct))
        {
            // Only a process that serves drains; elsewhere (a test host, the library off) the app runs as without it.
            RemoveWhere(services, d => d.ImplementationType == typeof(Diagnostics.StopHealthPublisher));
        }

        if (OperatingSystem.IsLinux())
        {
            switch (role)
            {
                case GracefulRestartRole.Master:
                    ApplyMaster(services, options);
                    break;
                case GracefulRestartRole.Child:
                    var sockets = ValidateMarker(marker!);
                    generation = ApplyChild(services, sockets, sockets.Marker.HostingUrls, options);
                    JournalConsole.ApplyInChild(services);
                    break;
                case GracefulRestartRole.Direct:
                    var activated = OpenActivationForDirect();
                    ApplyChild(services, new InheritedSockets(new ChildMarker(0, -1), activated), activated.Urls, options);
                    break;
            }
        }

        var context = new GracefulRestartContext(role, generation);
        services.AddSingleton(context);
        services.AddSingleton<IGracefulRestartContext>(context);
        services.AddSingleton<Serilog.Core.ILogEventEnricher>(new Diagnostics.GracefulRestartEnricher(context));
    }

    [SupportedOSPlatform("linux")]
    private static int RunControlCommand(string verb, GracefulRestartOptions options, string? applicationName)
    {
        var start = ChildCommand.FromCurrentProcess();
        var (path, _) = Master.Control.ControlSocketPath.Resolve(options.ControlSocket, Environment.GetEnvironmentVariable("RUNTIME_DIRECTORY"),
            applicationName ?? System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name ?? "app", start.WorkingDirectory, Interop.Libc.GetEffectiveUserId());
        // A reload waits for the previous generation's drain, the new one's start, and the switch.
        var timeout = options.ExitTimeout + options.StartTimeout + options.ExitTimeout + TimeSpan.FromSeconds(30);
        return Master.Control.ControlClient.Run(verb, path, timeout, Console.Out, Console.Error);
    }

    private void RemoveGuards(IServiceCollection services) =>
        RemoveWhere(services, d => !d.IsKeyedService
            && (d.ImplementationInstance == this
                || d.ServiceType == typeof(IGracefulRestartContext)
                || d.ImplementationType == typeof(NotAppliedGuard)));

    private static void RemoveWhere(IServiceCollection services, Func<ServiceDescriptor, bool> match)
    {
        for (int i = services.Count - 1; i >= 0; i--)
        {
            if (match(services[i]))
            {
                services.RemoveAt(i);
            }
        }
    }

    private sealed class NotAppliedGuard : IHostedService
    {
        public NotAppliedGuard() => throw new InvalidOperationException(NotAppliedMessage);

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [SupportedOSPlatform("linux")]
    private static void ApplyMaster(IServiceCollection services, GracefulRestartOptions options)
    {
        // The master runs none of the app: no Kestrel, no middleware (both start from a hosted
        // service), no background services. Only the supervisor, and the hosted services that must run there.
        MasterServices.RemoveAppServices(services);
        MasterLifetime.Register(services);

        services.AddSingleton(sp => ChildCommand.FromCurrentProcess(JournalConsole.ChildEnvironment(sp)));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(CreateNotifier);
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
            var marker = ChildMarker.Parse(markerText);
            InheritedSockets.ValidateControl(marker);
            // The app's own subprocesses must not take this process for a child.
            Environment.SetEnvironmentVariable(ChildMarker.VariableName, null);
            return new InheritedSockets(marker, new Child.Sockets.MasterChannel(marker.ControlFd));
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            // A child with bad descriptors must not serve, and must not look like a crash.
            Console.Error.WriteLine($"GracefulHosting: cannot start as a child: {e.Message}");
            Environment.Exit(1);
            throw;
        }
    }

    // Direct mode: each endpoint is matched to one of systemd's sockets as a master would match it.
    [SupportedOSPlatform("linux")]
    private static Child.Sockets.ActivatedSocketSource OpenActivationForDirect()
    {
        var activation = SocketActivation.FromEnvironment(Environment.ProcessId, out string? ignored)
            ?? throw new InvalidOperationException(
                "GracefulRestart:Mode=Direct serves on sockets passed by systemd, but this process has none" +
                (ignored is null ? " (LISTEN_FDS is not set)." : $": {ignored}."));
        return new Child.Sockets.ActivatedSocketSource(
            Master.Sockets.SocketTable.ForActivation(activation, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
    }

    [SupportedOSPlatform("linux")]
    private static int ApplyChild(IServiceCollection services, InheritedSockets sockets, IReadOnlyList<string> systemdUrls, GracefulRestartOptions options)
    {
        services.AddSingleton<KestrelEndpointProbe>();
        services.AddSingleton<EndpointProtocols>();
        services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<InheritedSocketsSetup>(sp, systemdUrls));
        services.AddSingleton(sockets);
        services.AddSingleton<ChildListeners>();
        services.AddSingleton<DrainState>();
        services.AddSingleton<EndpointReloadGuard>();
        services.AddSingleton(new ChildWarmup(Child.Warmup.WarmupHooks.AnyWork(options, services)));
        services.AddSingleton<Child.Warmup.WarmupHooks>();
        services.AddSingleton<LongLivedConnections>();
        services.AddSingleton<Child.Drain.GoAwayWindow>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.AspNetCore.Routing.MatcherPolicy, LongLivedEndpointPolicy>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddTransient<IStartupFilter, DrainStartupFilter>();
        Decorate<IConnectionListenerFactory>(services, (sp, inner) => new InheritedListenerFactory(
            inner,
            sp.GetRequiredService<InheritedSockets>(),
            sp.GetRequiredService<ChildListeners>(),
            sp.GetRequiredService<DrainState>(),
            sp.GetRequiredService<ChildWarmup>(),
            () => EndpointSettings.From(
                sp.GetRequiredService<IOptions<KestrelServerOptions>>().Value.ConfigurationLoader?.Configuration,
                HostingAddresses.Resolve(
                    sp.GetService<Microsoft.AspNetCore.Hosting.Server.IServer>()?.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>(),
                    sp.GetRequiredService<IConfiguration>())),
            sp.GetRequiredService<EndpointProtocols>()));

        FreezeKestrelReload(services);
        services.TryAddSingleton(CreateNotifier);
        services.AddHostedService<ChildService>();

        // Kestrel aborts what is left of the drain a little before the master's SIGKILL would.
        var margin = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(1).Ticks, options.ExitTimeout.Ticks / 5));
        services.PostConfigure<HostOptions>(host => host.ShutdownTimeout = options.ExitTimeout - margin);
        return sockets.Marker.Generation;
    }

    // A generation serves the endpoints it started with, which Kestrel's own live reload would drop.
    private static void FreezeKestrelReload(IServiceCollection services)
    {
        var freeze = new KestrelReloadFreeze();
        Decorate<IConfigureOptions<KestrelServerOptions>>(services, (_, inner) => freeze.Wrap(inner));
    }

    // Unkeyed registrations only, each keeping its lifetime.
    internal static void Decorate<TService>(IServiceCollection services, Func<IServiceProvider, TService, TService> wrap)
        where TService : class
    {
        for (int i = 0; i < services.Count; i++)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType == typeof(TService) && !descriptor.IsKeyedService)
            {
                services[i] = ServiceDescriptor.Describe(typeof(TService), sp => wrap(sp, (TService)CreateInner(sp, descriptor)), descriptor.Lifetime);
            }
        }
    }

    private static object CreateInner(IServiceProvider provider, ServiceDescriptor descriptor) =>
        descriptor.ImplementationInstance
            ?? descriptor.ImplementationFactory?.Invoke(provider)
            ?? ActivatorUtilities.CreateInstance(provider, descriptor.ImplementationType!);

    private static ServiceNotifier CreateNotifier(IServiceProvider services) =>
        new(new SystemdNotifier(), services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILoggerFactory>().CreateLogger<ServiceNotifier>());
}
