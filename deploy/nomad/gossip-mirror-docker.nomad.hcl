# gossip-mirror as a Nomad system job with the docker driver: the container
# image (release archive gossip-mirror-<version>-linux-<arch>-oci.tar, loaded
# on every client or pushed to a registry they reach) instead of a binary on
# the host. Host network, containerd's socket, content store and hosts
# directory bind-mounted at their own paths. Needs the docker plugin with
# volumes enabled (README.md).
#
#   gossip-mirror keygen | nomad var put nomad/jobs/gossip-mirror cluster_key=-
#   nomad job run gossip-mirror-docker.nomad.hcl

variable "image" {
  description = "The gossip-mirror image, by tag or pinned by digest (name@sha256:...)."
  type        = string
  default     = "localhost/gossip-mirror:0.2.0"
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

job "gossip-mirror-docker" {
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
      # Host network: these are host ports.
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
      driver = "docker"

      config {
        image        = var.image
        network_mode = "host"
        # As in the Kubernetes DaemonSet: uid 0 without capabilities (it owns
        # containerd's files), read-only root file system.
        cap_drop  = ["all"]
        readonly_rootfs = true
        security_opt    = ["no-new-privileges"]
        # The image's entrypoint is the binary.
        args = [
          "run",
          "--advertise-addr", "${attr.unique.network.ip-address}",
          "--name", "${node.unique.name}",
          "--key-file", "/secrets/cluster.key",
          # The member's own signing key, created on first start and kept on
          # the client (bind-mounted below), so a restart keeps its identity.
          "--identity-key-file", "/var/lib/gossip-mirror/identity.key",
          "--gossip-addr", "0.0.0.0:${NOMAD_PORT_gossip}",
          "--registry-addr", "0.0.0.0:${NOMAD_PORT_registry}",
          # /healthz, /readyz, /metrics answer anyone; /status.json and
          # /locate only loopback, --trusted-network or a cluster token.
          "--status-addr", "0.0.0.0:${NOMAD_PORT_status}",
          "--store", "containerd",
          "--containerd-sock", var.containerd_sock,
          "--containerd-namespace", var.containerd_namespace,
          "--containerd-content-root", "${var.containerd_root}/io.containerd.content.v1.content",
          "--configure-containerd",
          "--hosts-dir", var.hosts_dir,
          "--log-format", "json",
        ]
        # Each at its own path, so the arguments name host and container alike.
        mount {
          type     = "bind"
          source   = var.containerd_sock
          target   = var.containerd_sock
          readonly = false
        }
        mount {
          type     = "bind"
          source   = "${var.containerd_root}/io.containerd.content.v1.content"
          target   = "${var.containerd_root}/io.containerd.content.v1.content"
          readonly = true
        }
        mount {
          type   = "bind"
          source = var.hosts_dir
          target = var.hosts_dir
        }
        mount {
          type   = "bind"
          source = "/var/lib/gossip-mirror"
          target = "/var/lib/gossip-mirror"
        }
        mount {
          type   = "tmpfs"
          target = "/tmp"
          tmpfs_options {
            size = 16777216
          }
        }
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
