using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Server.Kestrel;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace GracefulHosting.Endpoints;

/// <summary>
/// Keeps Kestrel from re-reading its endpoint configuration on its own. The web host's defaults have
/// Kestrel watch <c>Kestrel:Endpoints</c> and certificate files (<c>reloadOnChange</c>) and rebind
/// live; in a child that would stop serving an address the moment the file changes, while the new
/// address can only be bound by the master. Endpoint and certificate changes apply on the restart
/// signal instead: the master asks Kestrel again and the next generation serves them, while the old
/// one keeps serving what it has until the switch, and keeps it if the restart is rolled back. The
/// master applies the same rule, so that its Kestrel and every generation's build the same options.
/// </summary>
/// <remarks>
/// Each <c>IConfigureOptions&lt;KestrelServerOptions&gt;</c> of the app runs through <see cref="Wrap"/>. The
/// first configuration loader one of them creates (the host's default, <c>Configure(section,
/// reloadOnChange: true)</c>) is replaced at once by one over the same section that does not reload, so
/// hooks later code adds to the loader stay. Loaders the app creates after it are left as they are.
/// </remarks>
internal sealed class KestrelReloadFreeze
{
    private readonly ConditionalWeakTable<KestrelServerOptions, KestrelConfigurationLoader> _replaced = [];

    /// <summary>Runs <paramref name="inner"/>, then replaces the first loader it creates for these options.</summary>
    public IConfigureOptions<KestrelServerOptions> Wrap(IConfigureOptions<KestrelServerOptions> inner) => new Step(inner, this);

    private void AfterStep(KestrelServerOptions options, KestrelConfigurationLoader? before)
    {
        var loader = options.ConfigurationLoader;
        if (loader is not null && !ReferenceEquals(loader, before) && !_replaced.TryGetValue(options, out _))
        {
            _replaced.AddOrUpdate(options, options.Configure(loader.Configuration, reloadOnChange: false));
        }
    }

    private sealed class Step : IConfigureNamedOptions<KestrelServerOptions>
    {
        private readonly IConfigureOptions<KestrelServerOptions> _inner;
        private readonly KestrelReloadFreeze _freeze;

        public Step(IConfigureOptions<KestrelServerOptions> inner, KestrelReloadFreeze freeze)
        {
            _inner = inner;
            _freeze = freeze;
        }

        public void Configure(string? name, KestrelServerOptions options)
        {
            var before = options.ConfigurationLoader;
            // The same rule the options factory applies to the step it would have called.
            if (_inner is IConfigureNamedOptions<KestrelServerOptions> named)
            {
                named.Configure(name, options);
            }
            else if (name == Options.DefaultName)
            {
                _inner.Configure(options);
            }

            _freeze.AfterStep(options, before);
        }

        public void Configure(KestrelServerOptions options) => Configure(Options.DefaultName, options);
    }
}
