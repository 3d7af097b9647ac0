using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Server.Kestrel;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace GracefulHosting.Endpoints;

// Kestrel's default reloadOnChange rebinds live and would drop a served address; endpoint and certificate changes wait for a restart.
internal sealed class KestrelReloadFreeze
{
    private readonly ConditionalWeakTable<KestrelServerOptions, KestrelConfigurationLoader> _replaced = [];

    // Replaces the first loader inner creates (the host's default) by one that does not reload, so hooks later code adds to it stay.
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
