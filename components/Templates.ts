import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { LxcTemplateConfig, NetworksConfig, VmTemplateConfig } from "../lib/config/schema";
import { ADOPTED_VM_IGNORES, statefulOptions } from "./adoption";
import { vmNetworkDevices } from "./guestNetworks";

export interface TemplatesArgs {
  /** The LXC template customer containers are created from, downloaded on each node that creates them. */
  lxcTemplate: LxcTemplateConfig;
  /** VM templates (VM 8000 cloud-init, VM 9000 plain), each with its image. */
  vmTemplates: readonly VmTemplateConfig[];
  /** The cluster's networks (templates get one LAN NIC). */
  networks: NetworksConfig;
  /** Provider holding the infrastructure-scope API token. */
  provider: pulumi.ProviderResource;
}

/** Volume ID of a downloaded file, e.g. `local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst`. */
export function volumeId(storage: string, content: "iso" | "vztmpl", fileName: string): string {
  return `${storage}:${content}/${fileName}`;
}

/**
 * Templates and the images they are made from. Images are `download.File`s: re-downloadable, so not
 * protected; `overwriteUnmanaged` lets the first `pulumi up` take over a copy already on the node
 * (same file, same name) instead of failing on it. The template VMs themselves are protected.
 */
export class Templates extends pulumi.ComponentResource {
  /** Volume ID of the LXC template, valid on every node in `lxcTemplate.nodes`. */
  readonly lxcTemplateVolumeId: string;
  /** The LXC template download per node, for `dependsOn`. */
  readonly lxcTemplateFiles: Record<string, proxmoxve.download.File> = {};

  constructor(name: string, args: TemplatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nodepoint:templates:Templates", name, {}, opts);
    const tpl = args.lxcTemplate;
    this.lxcTemplateVolumeId = volumeId(tpl.storage, "vztmpl", tpl.fileName);
    for (const node of tpl.nodes) {
      this.lxcTemplateFiles[node] = new proxmoxve.download.File(
        `lxc-template-${node}`,
        {
          nodeName: node,
          datastoreId: tpl.storage,
          contentType: "vztmpl",
          url: tpl.url,
          fileName: tpl.fileName,
          overwrite: false,
          overwriteUnmanaged: true,
        },
        { parent: this, provider: args.provider },
      );
    }
    for (const template of args.vmTemplates) this.declareVmTemplate(template, args);
    this.registerOutputs({ lxcTemplateVolumeId: this.lxcTemplateVolumeId });
  }

  private declareVmTemplate(template: VmTemplateConfig, args: TemplatesArgs): void {
    const image = new proxmoxve.download.File(
      `image-${template.name}`,
      {
        nodeName: template.node,
        datastoreId: template.image.storage,
        contentType: "iso",
        url: template.image.url,
        fileName: template.image.fileName,
        overwrite: false,
        overwriteUnmanaged: true,
        ...(template.image.checksum ? { checksum: template.image.checksum, checksumAlgorithm: "sha256" } : {}),
      },
      { parent: this, provider: args.provider },
    );
    const imageId = volumeId(template.image.storage, "iso", template.image.fileName);
    const cloudInit = template.flavour === "cloud-init";
    new proxmoxve.VmLegacy(
      `vm-${template.vmid}-${template.name}`,
      {
        vmId: template.vmid,
        name: template.name,
        nodeName: template.node,
        ...(template.description !== undefined ? { description: template.description } : {}),
        tags: [...template.tags].sort(),
        template: true,
        started: false,
        onBoot: false,
        protection: template.pveProtection,
        cpu: { cores: 2, sockets: 1 },
        memory: { dedicated: 2048 },
        networkDevices: vmNetworkDevices(args.networks, ["lan"], false),
        agent: { enabled: true },
        disks: [
          {
            interface: "scsi0",
            datastoreId: template.disk.storage,
            size: template.disk.sizeGiB,
            ...(cloudInit ? { fileId: imageId } : {}),
          },
        ],
        ...(cloudInit
          ? {
              initialization: { datastoreId: template.disk.storage, ipConfigs: [{ ipv4: { address: "dhcp" } }] },
              serialDevices: [{ device: "socket" }],
              vga: { type: "serial0" },
            }
          : { cdrom: { fileId: imageId, interface: "ide2" } }),
      },
      statefulOptions(
        { parent: this, provider: args.provider, dependsOn: [image] },
        { adopt: template.adopt, importId: `${template.node}/${template.vmid}`, ignoreChanges: ADOPTED_VM_IGNORES },
      ),
    );
  }
}
