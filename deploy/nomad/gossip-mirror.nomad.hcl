# gossip-mirror as a Nomad system job: one mirror per client node, running the
# binary installed on the host (raw_exec). Seeds come from the job's own
# service registrations (Nomad's service discovery by default, or Consul),
# plus any static ones. See README.md; gossip-mirror-docker.nomad.hcl runs
# the container image instead.
#
#   gossip-mirror keygen | nomad var put nomad/jobs/gossip-mirror cluster_key=-
#   nomad job run gossip-mirror.nomad.hcl

variable "binary" {
  description = "Path of the gossip-mirror binary on every client node."
  type        = string
  default     = "/usr/local/bin/gossip-mirror"
}

variable "service_provider" {
  description = "Where the mirrors register and find each other: nomad (built in; edge sites often have no Consul) or consul."
  type        = string
  default     = "nomad"
  validation {
    condition     = contains(["nomad", "consul"], var.service_provider)
    error_message = "The service provider must be nomad or consul."
  }
}

variable "join" {
  description = "Extra seeds, comma-separated HOST[:PORT] (e.g. two long-lived clients); added to the registered mirrors."
  type        = string
  default     = ""
}

variable "gossip_port" {
  description = "Gossip, TCP and UDP, on every client. 7946 is also MetalLB's speaker port and Docker Swarm's: pick another if they run here."
  type        = number
  default     = 7946
}

variable "registry_port" {
  description = "The registry API that containerd uses. 5000 is also the usual local registry's port."
  type        = number
  default     = 5000
}

variable "status_port" {
  description = "/metrics, /healthz, /readyz, /status. 9090 is also Prometheus's and Cockpit's port."
  type        = number
  default     = 9090
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

locals {
  # Every registered mirror's gossip address, rendered by the seeds template.
  seeds_template = var.service_provider == "consul" ? "{{ range service \"gossip-mirror\" }}{{ .Address }}:{{ .Port }},{{ end }}" : "{{ range nomadService \"gossip-mirror\" }}{{ .Address }}:{{ .Port }},{{ end }}"
}

job "gossip-mirror" {
  type        = "system"
  datacenters = ["*"]
  # Above ordinary jobs: on a full client the mirror is placed first, and a
  # missing mirror sends every pull on that node upstream.
  priority = 90

  update {
    # While a node's mirror restarts, that node pulls from upstream.
    max_parallel = 1
    stagger      = "10s"
  }

  group "mirror" {
    # Keep retrying, never give up (Nomad's default for system jobs fails the
    # allocation after 2 attempts in 30 minutes): 5 restarts per 5 minutes,
    # then wait out the interval and start again.
    restart {
      attempts = 5
      interval = "5m"
      delay    = "10s"
      mode     = "delay"
    }

    network {
      # raw_exec runs in the host's network namespace: these are host ports.
      port "gossip" {
        static = var.gossip_port
      }
      port "registry" {
        static = var.registry_port
      }
      port "status" {
        static = var.status_port
      }
    }

    service {
      name     = "gossip-mirror"
      provider = var.service_provider
      port     = "gossip"
      tags     = ["gossip"]

      # Liveness, not /readyz: the first mirrors must be registered (and so
      # found as seeds) before they have peers.
      check {
        type     = "http"
        port     = "status"
        path     = "/healthz"
        interval = "10s"
        timeout  = "2s"

        # A mirror that stops answering is restarted.
        check_restart {
          limit = 3
          grace = "30s"
        }
      }
    }

    service {
      name     = "gossip-mirror-metrics"
      provider = var.service_provider
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
          # The member's own signing key, created on first start, on the
          # client itself (not in the allocation, which a reschedule drops).
          "--identity-key-file", "/var/lib/gossip-mirror/identity.key",
          "--gossip-addr", "0.0.0.0:${NOMAD_PORT_gossip}",
          "--registry-addr", "0.0.0.0:${NOMAD_PORT_registry}",
          # /healthz, /readyz and /metrics answer anyone (the check,
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
          "--log-format", "json",
        ]
      }

      # The cluster key from a Nomad variable (readable by this job's tasks
      # through their workload identity). A new value is rendered in place
      # and the mirror re-reads its key files on SIGHUP: no restart.
      template {
        data          = <<-EOT
          {{ with nomadVar "nomad/jobs/gossip-mirror" }}{{ .cluster_key }}{{ end }}
        EOT
        destination   = "secrets/cluster.key"
        perms         = "0400"
        change_mode   = "signal"
        change_signal = "SIGHUP"
      }

      # Seeds: the registered mirrors and the static ones. Read at start
      # only (noop): a running mirror keeps every member it has learnt by
      # gossip, so a changed list needs no restart.
      template {
        data        = "GOSSIP_MIRROR_JOIN=${local.seeds_template}${var.join}\n"
        destination = "local/seeds.env"
        env         = true
        change_mode = "noop"
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
