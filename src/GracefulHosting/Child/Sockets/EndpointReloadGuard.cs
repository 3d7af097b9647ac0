using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace GracefulHosting.Child.Sockets;

// Kestrel's reloadOnChange would unbind a socket the master passed, or bind one itself; endpoints change only with a restart.
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class EndpointReloadGuard : IDisposable
{
    private readonly KestrelServerOptions _kestrel;
    private readonly IConfiguration _configuration;
    private readonly ILogger _logger;
    private readonly int _masterPid;
    private IDisposable? _changes;

    public EndpointReloadGuard(IOptions<KestrelServerOptions> kestrel, IConfiguration configuration, ILogger<EndpointReloadGuard> logger)
    {
        _kestrel = kestrel.Value;
        _configuration = configuration;
        _logger = logger;
        _masterPid = ChildService.GetParentPid();
    }

    // Covers what Endpoints.KestrelReloadFreeze cannot: a reloading loader the app creates itself. Call after Kestrel started.
    public void Freeze()
    {
        if (_kestrel.ConfigurationLoader is not { } loader)
        {
            // Endpoints come from code only: no configuration change can touch them.
            return;
        }

        var live = loader.Configuration;
        var bound = Snapshot(live);
        // Comparing this frozen copy with what it bound, Kestrel finds no change and stops listening for changes.
        var frozen = new ConfigurationBuilder()
            .Add(new MemoryConfigurationSource { InitialData = bound })
            .Build();
        _kestrel.Configure(frozen, reloadOnChange: false);

        _changes = ChangeToken.OnChange(_configuration.GetReloadToken, () =>
        {
            if (!SameValues(bound, Snapshot(live)))
            {
                ChildLog.EndpointConfigurationChanged(_logger, _masterPid);
            }
        });
    }

    internal static IEnumerable<KeyValuePair<string, string?>> Snapshot(IConfiguration section) =>
        section.AsEnumerable(makePathsRelative: true).Where(pair => pair.Key.Length > 0 && pair.Value is not null).ToList();

    internal static bool SameValues(IEnumerable<KeyValuePair<string, string?>> a, IEnumerable<KeyValuePair<string, string?>> b)
    {
        // Configuration keys are case-insensitive, values are not.
        var left = a.ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.OrdinalIgnoreCase);
        var right = b.ToList();
        return left.Count == right.Count
            && right.All(pair => left.TryGetValue(pair.Key, out string? value) && string.Equals(value, pair.Value, StringComparison.Ordinal));
    }

    public void Dispose() => _changes?.Dispose();
}
