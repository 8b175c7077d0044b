# gossip-mirror as a Nomad system job: one mirror per client node, running the
# binary installed on the host (raw_exec), joining its peers through Consul DNS
# (or static seeds: -var 'join=10.0.0.11,10.0.0.12').
# See README.md for the key, the driver choice, and Docker-driver nodes.
#
#   gossip-mirror keygen | nomad var put nomad/jobs/gossip-mirror cluster_key=-
#   nomad job run gossip-mirror.nomad.hcl

variable "binary" {
  description = "Path of the gossip-mirror binary on every client node."
  type        = string
  default     = "/usr/local/bin/gossip-mirror"
}

variable "join" {
  description = "Seeds, comma-separated: HOST[:PORT] or DNS names. The default, Consul DNS, resolves to every mirror with a passing check."
  type        = string
  default     = "gossip-mirror.service.consul"
}

variable "containerd_namespace" {
  description = "k8s.io for CRI images, moby for Docker Engine with the containerd image store, default for ctr/nerdctl."
  type        = string
  default     = "moby"
}

variable "containerd_sock" {
  description = "containerd's socket. Docker Engine started without --containerd runs its own at /run/docker/containerd/containerd.sock."
  type        = string
  default     = "/run/containerd/containerd.sock"
}

variable "containerd_root" {
  description = "containerd's root directory. Docker Engine's own containerd keeps it at /var/lib/docker/containerd/daemon."
  type        = string
  default     = "/var/lib/containerd"
}

variable "hosts_dir" {
  description = "Where hosts.toml files go: containerd's config_path (/etc/containerd/certs.d), or /etc/docker/certs.d for Docker Engine 28+ with the containerd image store."
  type        = string
  default     = "/etc/docker/certs.d"
}

job "gossip-mirror" {
  type        = "system"
  datacenters = ["*"]

  update {
    # While a node's mirror restarts, that node pulls from upstream.
    max_parallel = 1
    stagger      = "10s"
  }

  group "mirror" {
    network {
      # raw_exec runs in the host's network namespace: these are host ports.
      port "gossip" {
        static = 7946
      }
      port "registry" {
        static = 5000
      }
      port "status" {
        static = 9090
      }
    }

    service {
      name     = "gossip-mirror"
      provider = "consul"
      port     = "gossip"
      tags     = ["gossip"]

      # Liveness, not /readyz: Consul DNS returns only passing instances, and
      # the first mirrors must be resolvable before they have peers.
      check {
        type     = "http"
        port     = "status"
        path     = "/healthz"
        interval = "10s"
        timeout  = "2s"
      }
    }

    service {
      name     = "gossip-mirror-metrics"
      provider = "consul"
      port     = "status"
      tags     = ["prometheus"]
    }

    task "gossip-mirror" {
      # raw_exec: runs as the Nomad client's user (root) without isolation, as
      # the mirror must read containerd's root-only content store and write
      # hosts.toml. The plugin is disabled by default; see README.md.
      driver = "raw_exec"

      config {
        command = var.binary
        args = [
          "run",
          "--advertise-addr", "${attr.unique.network.ip-address}",
          "--name", "${node.unique.name}",
          "--key-file", "${NOMAD_SECRETS_DIR}/cluster.key",
          "--gossip-addr", "0.0.0.0:${NOMAD_PORT_gossip}",
          "--registry-addr", "0.0.0.0:${NOMAD_PORT_registry}",
          # /healthz, /readyz and /metrics answer anyone (the Consul check,
          # Prometheus); /status.json and /locate only loopback
          # (`gossip-mirror members` on the client), --trusted-network or a
          # cluster token.
          "--status-addr", "0.0.0.0:${NOMAD_PORT_status}",
          "--store", "containerd",
          "--containerd-sock", var.containerd_sock,
          "--containerd-namespace", var.containerd_namespace,
          "--containerd-content-root", var.containerd_root,
          "--configure-containerd",
          "--hosts-dir", var.hosts_dir,
        ]
      }

      # Seeds through the environment, so that one variable can hold several
      # (GOSSIP_MIRROR_JOIN is the comma-separated form of --join).
      env {
        GOSSIP_MIRROR_JOIN = var.join
      }

      # The cluster key from a Nomad variable (readable by this job's tasks
      # through their workload identity), rendered into the secrets directory.
      template {
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/gossip-mirror" }}{{ .cluster_key }}{{ end }}
        EOT
        destination = "secrets/cluster.key"
        perms       = "0400"
        change_mode = "restart"
      }

      # SIGTERM: restore hosts.toml, stop serving, leave the cluster.
      kill_signal  = "SIGTERM"
      kill_timeout = "30s"

      resources {
        cpu        = 100
        memory     = 128
        memory_max = 512
      }
    }
  }
}
