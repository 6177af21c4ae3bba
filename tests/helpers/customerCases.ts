/** Customer inputs shared by the tests of the plan's validation and of `customer add`. */

/**
 * Domains no customer may have, with the message: what the plan refuses, `customer add` refuses
 * the same way (tests/customerAdd.test.ts runs this table through it).
 */
export const domainCases: Array<[string, string, string]> = [
  [
    "internationalized domain (the punycode form is named)",
    "bäckerei.nodepoint.eu",
    '"bäckerei.nodepoint.eu" is an internationalized name: write its ASCII (punycode) form xn--bckerei-5wa.nodepoint.eu',
  ],
  ["wildcard", "*.nodepoint.eu", '"*.nodepoint.eu" is a wildcard: a site has one host name'],
  ["wildcard inside a label", "shop*.nodepoint.eu", '"shop*.nodepoint.eu" is a wildcard'],
  [
    "empty label",
    "shop..nodepoint.eu",
    '"shop..nodepoint.eu" has an empty label (two dots in a row, or a leading dot)',
  ],
  ["leading dot", ".shop.nodepoint.eu", '".shop.nodepoint.eu" has an empty label'],
  [
    "leading space",
    " shop.nodepoint.eu",
    '" shop.nodepoint.eu" has leading or trailing spaces: write "shop.nodepoint.eu"',
  ],
  ["trailing dot", "shop.nodepoint.eu.", '"shop.nodepoint.eu." ends with a dot: write shop.nodepoint.eu'],
  ["underscore", "my_shop.nodepoint.eu", 'label "my_shop" may hold only letters, digits and hyphens'],
  ["label with a leading hyphen", "-shop.nodepoint.eu", 'label "-shop" must not start or end with a hyphen'],
  ["label longer than 63", `${"a".repeat(64)}.nodepoint.eu`, `label "${"a".repeat(64)}" is longer than 63 characters`],
  ["invalid punycode", "xn--zz.nodepoint.eu", 'label "xn--zz" is not valid punycode'],
  ["empty", "", "is empty"],
  [
    "the zone apex",
    "nodepoint.eu",
    "nodepoint.eu is the zone apex: it carries the zone's NS, MX and the company's own records",
  ],
  [
    "ns1, ISPConfig's nameserver",
    "ns1.nodepoint.eu",
    "ns1.nodepoint.eu is reserved: a nameserver of the zone (ISPConfig, VM 100: authoritative DNS ns1/ns2)",
  ],
  ["ns2, in capitals", "NS2.nodepoint.eu", "NS2.nodepoint.eu is reserved: a nameserver of the zone"],
  ["mail", "mail.nodepoint.eu", "mail.nodepoint.eu is reserved: the mail server (ISPConfig, VM 100"],
  ["www of the apex", "www.nodepoint.eu", "www.nodepoint.eu is reserved: the company's own website (CT 102"],
  [
    "billing",
    "billing.nodepoint.eu",
    "billing.nodepoint.eu is reserved: the billing system and customer portal (Paymenter, VM 107)",
  ],
];
