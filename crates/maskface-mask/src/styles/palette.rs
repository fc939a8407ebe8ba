//! The body and pattern colours the masks are drawn from, and the colour
//! arithmetic of the shading.

pub(super) const SURGICAL_COLORS: [[u8; 3]; 6] = [
    [122, 172, 214], // classic surgical blue
    [158, 202, 230], // light blue
    [236, 238, 240], // white
    [168, 216, 198], // mint
    [238, 192, 206], // light pink
    [40, 40, 44],    // black
];
pub(super) const N95_COLORS: [[u8; 3]; 4] = [
    [240, 240, 236], // white
    [228, 224, 212], // off-white
    [196, 198, 201], // light grey
    [150, 153, 158], // grey
];
/// Elastomeric respirator bodies: mostly dark rubber and silicone.
pub(super) const GAS_COLORS: [[u8; 3]; 6] = [
    [46, 47, 50],    // black rubber
    [70, 72, 76],    // dark grey
    [96, 99, 104],   // grey
    [62, 74, 92],    // blue-grey
    [84, 96, 112],   // slate
    [150, 118, 160], // lilac silicone
];
/// Filter cartridges, by the colour codes their makers print on them.
pub(super) const CARTRIDGE_COLORS: [[u8; 3]; 6] = [
    [196, 70, 150],  // magenta: particulate P100
    [214, 184, 60],  // yellow: acid gas and organic vapour
    [60, 62, 66],    // black: organic vapour
    [110, 122, 70],  // olive: multi-gas
    [226, 226, 220], // white: acid gas
    [176, 182, 190], // light grey
];
pub(super) const CLOTH_COLORS: [[u8; 3]; 12] = [
    [38, 48, 88],    // navy
    [34, 34, 36],    // black
    [72, 74, 80],    // charcoal
    [118, 34, 50],   // burgundy
    [92, 102, 60],   // olive
    [72, 98, 138],   // denim
    [205, 188, 160], // beige
    [212, 150, 166], // dusty pink
    [38, 118, 122],  // teal
    [198, 160, 64],  // mustard
    [176, 42, 48],   // red
    [232, 230, 224], // white
];
pub(super) const PATTERN_COLORS: [[u8; 3]; 9] = [
    [242, 240, 234], // white
    [236, 222, 188], // cream
    [30, 30, 32],    // black
    [192, 48, 54],   // red
    [232, 200, 72],  // yellow
    [140, 190, 230], // sky
    [232, 160, 182], // pink
    [70, 140, 92],   // green
    [40, 56, 110],   // navy
];

pub(super) fn luma(c: [f32; 3]) -> f32 {
    0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
}

pub(super) fn to_f(c: [u8; 3]) -> [f32; 3] {
    [f32::from(c[0]), f32::from(c[1]), f32::from(c[2])]
}

pub(super) fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}
