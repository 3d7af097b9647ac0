using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GracefulHosting.Hosting;

// Without the app's "Application started. Press Ctrl+C to shut down." lines, which made the master look like a second start of the app.
internal sealed class MasterLifetime : IHostLifetime, IDisposable
{
    private readonly IHostLifetime _inner;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly IHostEnvironment _environment;
    private readonly ILogger _logger;
    private readonly string _restartSignal;
    private CancellationTokenRegistration _started;

    public MasterLifetime(IHostLifetime inner, IHostApplicationLifetime lifetime, IHostEnvironment environment,
        IOptions<GracefulRestartOptions> options, ILogger<MasterLifetime> logger)
    {
        _restartSignal = options.Value.RestartSignal;
        _inner = inner;
        _lifetime = lifetime;
        _environment = environment;
        _logger = logger;
    }

    public static void Register(IServiceCollection services)
    {
        services.Configure<ConsoleLifetimeOptions>(options => options.SuppressStatusMessages = true);
        GracefulRestartSetup.Decorate<IHostLifetime>(services, (sp, inner) =>
            ActivatorUtilities.CreateInstance<MasterLifetime>(sp, Quiet(sp, inner)));
    }

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        int pid = Environment.ProcessId;
        _started = _lifetime.ApplicationStarted.Register(() =>
            HostingLog.MasterHostStarted(_logger, pid, _environment.ApplicationName, _environment.EnvironmentName, _environment.ContentRootPath, _restartSignal));
        return _inner.WaitForStartAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => _inner.StopAsync(cancellationToken);

    public void Dispose()
    {
        _started.Dispose();
        (_inner as IDisposable)?.Dispose();
    }

    // Systemd's lifetime has no quiet option: it is made again with a logger that writes nothing (its constructor only stores it).
    private static IHostLifetime Quiet(IServiceProvider services, IHostLifetime lifetime) =>
        lifetime is SystemdLifetime ? ActivatorUtilities.CreateInstance<SystemdLifetime>(services, NullLoggerFactory.Instance) : lifetime;
}
