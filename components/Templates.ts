import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { LxcTemplateConfig, NetworksConfig, VmTemplateConfig } from "../lib/config/schema";
import { adoptionIgnores, replacementOptions } from "../lib/providerFacts";
import { statefulOptions } from "./adoption";
import { vmNetworkDevices } from "./guestNetworks";
import { COMPONENT_TYPES } from "../lib/componentTypes";
import { requireProviders } from "./providerOptions";
import { formerlyNamed } from "./childNames";

export interface TemplatesArgs {
  /** The LXC template customer containers are created from, downloaded on each node that creates them. */
  lxcTemplate: LxcTemplateConfig;
  /** VM templates (VM 8000 cloud-init, VM 9000 plain), each with its image. */
  vmTemplates: readonly VmTemplateConfig[];
  /** The cluster's networks (templates get one LAN NIC). */
  networks: NetworksConfig;
  /**
   * Pool a guest the program creates joins at creation (the infrastructure token's grant is on it); an
   * adopted guest joins through a membership (components/AutomationAccess.ts), since `poolId` would replace it.
   */
  pool: string;
}

/** Volume ID of a downloaded file, e.g. `local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst`. */
export function volumeId(storage: string, content: "iso" | "vztmpl", fileName: string): string {
  return `${storage}:${content}/${fileName}`;
}

/**
 * Figures of a template VM the seed does not state (it lists only node, purpose and "stopped"): used
 * for a fresh creation, left as they are on an adopted template.
 */
const UNSTATED_TEMPLATE_INPUTS = ["cpu", "memory", "networkDevices", "onBoot"] as const;

/**
 * Templates and the images they are made from. Images are `download.File`s, not protected (they can
 * be downloaded again). A file already on a node's storage (`lxcTemplate.present`) is imported, never
 * downloaded again; a new one is downloaded with `overwrite` and `overwriteUnmanaged` off, so a file
 * that turns out to exist fails the step instead of being deleted and fetched anew
 * (lib/providerFacts.ts, downloadFile hazards). An adopted template VM needs no image: it exists.
 * Files are kept on the storage when their resource goes (`retainOnDelete`): deleting one needs
 * Datastore.Allocate on the storage, which would also let the token delete backups kept there
 * (lib/permissions/access.ts). The template VMs themselves are protected.
 */
export class Templates extends pulumi.ComponentResource {
  /** Volume ID of the LXC template, valid on every node in `lxcTemplate.nodes`. */
  readonly lxcTemplateVolumeId: string;
  /** The LXC template download per node, for `dependsOn`. */
  readonly lxcTemplateFiles: Record<string, proxmoxve.download.File> = {};

  constructor(name: string, args: TemplatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.templates, name, {}, opts);
    requireProviders(this, name, ["proxmoxve"]);
    const tpl = args.lxcTemplate;
    this.lxcTemplateVolumeId = volumeId(tpl.storage, "vztmpl", tpl.fileName);
    for (const node of tpl.nodes) {
      const inputs = {
        nodeName: node,
        datastoreId: tpl.storage,
        contentType: "vztmpl",
        url: tpl.url,
        fileName: tpl.fileName,
        overwrite: false,
        overwriteUnmanaged: false,
      };
      const present = tpl.present.includes(node);
      this.lxcTemplateFiles[node] = new proxmoxve.download.File(`${name}-lxc-template-${node}`, inputs, {
        parent: this,
        ...formerlyNamed(`lxc-template-${node}`),
        retainOnDelete: true,
        ...replacementOptions("downloadFile"),
        ...(present
          ? {
              import: `${node}/${this.lxcTemplateVolumeId}`,
              ignoreChanges: adoptionIgnores("downloadFile", inputs),
            }
          : {}),
      });
    }
    for (const template of args.vmTemplates) this.declareVmTemplate(name, template, args);
    this.registerOutputs({ lxcTemplateVolumeId: this.lxcTemplateVolumeId });
  }

  private declareVmTemplate(name: string, template: VmTemplateConfig, args: TemplatesArgs): void {
    // An adopted template exists: nothing to download (its disk and image inputs are ignored).
    const image = template.adopt
      ? undefined
      : new proxmoxve.download.File(
          `${name}-image-${template.name}`,
          {
            nodeName: template.node,
            datastoreId: template.image.storage,
            contentType: "iso",
            url: template.image.url,
            fileName: template.image.fileName,
            overwrite: false,
            overwriteUnmanaged: false,
            ...(template.image.checksum ? { checksum: template.image.checksum, checksumAlgorithm: "sha256" } : {}),
          },
          {
            parent: this,
            retainOnDelete: true,
            ...replacementOptions("downloadFile"),
            ...formerlyNamed(`image-${template.name}`),
          },
        );
    const imageId = volumeId(template.image.storage, "iso", template.image.fileName);
    const cloudInit = template.flavour === "cloud-init";
    const protection = template.pveProtection ?? (template.adopt ? undefined : true);
    const inputs: proxmoxve.VmLegacyArgs = {
      vmId: template.vmid,
      name: template.name,
      nodeName: template.node,
      ...(template.adopt ? {} : { poolId: args.pool }),
      ...(template.description !== undefined ? { description: template.description } : {}),
      ...(template.tags !== undefined ? { tags: [...template.tags].sort() } : {}),
      template: true,
      started: false,
      onBoot: false,
      ...(protection !== undefined ? { protection } : {}),
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
    };
    new proxmoxve.VmLegacy(
      `${name}-vm-${template.vmid}-${template.name}`,
      inputs,
      statefulOptions(
        "vm",
        inputs,
        {
          parent: this,
          ...(image ? { dependsOn: [image] } : {}),
          ...formerlyNamed(`vm-${template.vmid}-${template.name}`),
        },
        {
          adopt: template.adopt,
          importId: `${template.node}/${template.vmid}`,
          alsoIgnore: UNSTATED_TEMPLATE_INPUTS,
        },
      ),
    );
  }
}
