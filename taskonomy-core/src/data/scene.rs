//! Procedural indoor scenes: a box room with doors and windows set into its walls, furniture built from
//! boxes, cylinders and balls, procedural textures, and lights.
//!
//! The room type ([`SceneClass`]) decides which furniture ([`ObjectClass`]) appears and how often, so the
//! scene-classification label is a real property of what the camera sees. A scene is a pure function of
//! `(seed, index)`.

use super::geometry::{interior_exit, Aabb, Ray, Shape, SurfaceHit};
use super::math::{Mat3, Pose, Vec3};
use super::rng::{mix64, Rng};

/// The room types of the synthetic scenes; the scene-classification label is the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SceneClass {
    /// Bed, cabinets, a lamp.
    Bedroom,
    /// Sofas around a low table, a screen, plants.
    LivingRoom,
    /// Cabinets along the walls, a stove, a refrigerator, a sink.
    Kitchen,
    /// A small room: toilet, sink, bathtub.
    Bathroom,
    /// Desks with screens and chairs, shelves.
    Office,
    /// A table with chairs around it.
    DiningRoom,
    /// A large room with rows of tables and chairs, a screen.
    Classroom,
    /// A large room with sofas and plants.
    Lobby,
}

impl SceneClass {
    /// Every room type, in label order.
    pub const ALL: [SceneClass; 8] = [
        SceneClass::Bedroom,
        SceneClass::LivingRoom,
        SceneClass::Kitchen,
        SceneClass::Bathroom,
        SceneClass::Office,
        SceneClass::DiningRoom,
        SceneClass::Classroom,
        SceneClass::Lobby,
    ];

    /// The label index (0-based).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The room type of a label index.
    pub fn from_index(i: usize) -> Option<SceneClass> {
        SceneClass::ALL.get(i).copied()
    }

    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            SceneClass::Bedroom => "bedroom",
            SceneClass::LivingRoom => "living_room",
            SceneClass::Kitchen => "kitchen",
            SceneClass::Bathroom => "bathroom",
            SceneClass::Office => "office",
            SceneClass::DiningRoom => "dining_room",
            SceneClass::Classroom => "classroom",
            SceneClass::Lobby => "lobby",
        }
    }
}

/// The furniture classes; [`ObjectClass::semantic_id`] is the per-pixel class of semantic segmentation,
/// where 0 is the background (walls, floor, ceiling, doors and windows).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectClass {
    /// Four legs, a seat and a back.
    Chair,
    /// A base, a back and two arms.
    Sofa,
    /// A frame, a mattress, a headboard and pillows.
    Bed,
    /// A top on legs (rectangular) or on a pedestal (round).
    Table,
    /// A closed box with handles.
    Cabinet,
    /// A floor lamp: base, pole and a glowing shade.
    Lamp,
    /// A pot with balls of foliage.
    Plant,
    /// A thin dark panel on a stand.
    Screen,
    /// Open shelves holding books.
    Shelf,
    /// A flat patterned mat on the floor.
    Rug,
    /// Bowl, seat and tank.
    Toilet,
    /// A vanity with a basin and a tap.
    Sink,
    /// A tall box with a handle.
    Refrigerator,
    /// A long white tub.
    Bathtub,
    /// A box with burners on top.
    Stove,
    /// A cylinder with a ball, on the floor or on a table.
    Vase,
}

/// The number of semantic-segmentation classes, background (0) included.
pub const SEMANTIC_CLASSES: usize = 17;

impl ObjectClass {
    /// Every object class, in semantic-id order (1..=16).
    pub const ALL: [ObjectClass; 16] = [
        ObjectClass::Chair,
        ObjectClass::Sofa,
        ObjectClass::Bed,
        ObjectClass::Table,
        ObjectClass::Cabinet,
        ObjectClass::Lamp,
        ObjectClass::Plant,
        ObjectClass::Screen,
        ObjectClass::Shelf,
        ObjectClass::Rug,
        ObjectClass::Toilet,
        ObjectClass::Sink,
        ObjectClass::Refrigerator,
        ObjectClass::Bathtub,
        ObjectClass::Stove,
        ObjectClass::Vase,
    ];

    /// The semantic-segmentation class, 1..=16 (0 is the background).
    pub fn semantic_id(self) -> u8 {
        self as u8 + 1
    }

    /// The object class of a semantic id (`None` for the background and out-of-range ids).
    pub fn from_semantic_id(id: u8) -> Option<ObjectClass> {
        ObjectClass::ALL
            .get(usize::from(id).checked_sub(1)?)
            .copied()
    }

    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            ObjectClass::Chair => "chair",
            ObjectClass::Sofa => "sofa",
            ObjectClass::Bed => "bed",
            ObjectClass::Table => "table",
            ObjectClass::Cabinet => "cabinet",
            ObjectClass::Lamp => "lamp",
            ObjectClass::Plant => "plant",
            ObjectClass::Screen => "screen",
            ObjectClass::Shelf => "shelf",
            ObjectClass::Rug => "rug",
            ObjectClass::Toilet => "toilet",
            ObjectClass::Sink => "sink",
            ObjectClass::Refrigerator => "refrigerator",
            ObjectClass::Bathtub => "bathtub",
            ObjectClass::Stove => "stove",
            ObjectClass::Vase => "vase",
        }
    }
}

/// A procedural texture: how the albedo varies between a material's two colours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pattern {
    /// The base colour everywhere.
    Plain,
    /// Squares of side `size` metres alternating base and accent (tiles).
    Checker {
        /// Side of a square (metres).
        size: f64,
    },
    /// Bands of width `width` metres along the first texture coordinate (wallpaper, rugs).
    Stripes {
        /// Width of one band (metres).
        width: f64,
    },
    /// Growth rings distorted by value noise (planks, furniture wood); `scale` is the ring spacing (metres).
    Wood {
        /// Ring spacing (metres).
        scale: f64,
    },
    /// Value noise blending base and accent (carpet, foliage, plaster); `scale` is the feature size (metres).
    Speckle {
        /// Feature size (metres).
        scale: f64,
    },
}

/// A surface's appearance: linear-RGB albedo from a pattern over two colours, plus emitted light.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Material {
    /// Base albedo, linear RGB in `[0, 1]`.
    pub base: [f32; 3],
    /// Second albedo of the pattern, linear RGB.
    pub accent: [f32; 3],
    /// How the two colours are laid out.
    pub pattern: Pattern,
    /// Emitted radiance, as a multiple of the albedo (lamp shades, screens, the sky in windows).
    pub emission: f32,
    /// A per-material seed for the noise patterns, so two wooden tables do not share their grain.
    pub noise_seed: u64,
}

impl Material {
    fn plain(base: [f32; 3]) -> Material {
        Material {
            base,
            accent: base,
            pattern: Pattern::Plain,
            emission: 0.0,
            noise_seed: 0,
        }
    }

    /// The albedo at texture coordinates `uv` (metres), linear RGB.
    pub fn albedo(&self, uv: [f64; 2]) -> [f32; 3] {
        let w = match self.pattern {
            Pattern::Plain => return self.base,
            Pattern::Checker { size } => {
                let parity =
                    (libm::floor(uv[0] / size) as i64 + libm::floor(uv[1] / size) as i64) & 1;
                parity as f64
            }
            Pattern::Stripes { width } => (libm::floor(uv[0] / width) as i64 & 1) as f64,
            Pattern::Wood { scale } => {
                let n = value_noise(uv[0] / (4.0 * scale), uv[1] / scale, self.noise_seed);
                let ring = uv[0] / scale + 3.0 * n;
                let f = ring - libm::floor(ring);
                // Narrow dark late-wood bands inside wide light early-wood.
                smoothstep(0.55, 0.85, f) * (1.0 - smoothstep(0.85, 1.0, f))
            }
            Pattern::Speckle { scale } => {
                let a = value_noise(uv[0] / scale, uv[1] / scale, self.noise_seed);
                let b = value_noise(
                    uv[0] / (0.37 * scale),
                    uv[1] / (0.37 * scale),
                    self.noise_seed ^ 0xabcd,
                );
                (0.65 * a + 0.35 * b).clamp(0.0, 1.0)
            }
        } as f32;
        [0, 1, 2].map(|i| self.base[i] + (self.accent[i] - self.base[i]) * w)
    }
}

fn smoothstep(a: f64, b: f64, x: f64) -> f64 {
    let t = ((x - a) / (b - a)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Value noise in `[0, 1]`: random values on the integer lattice, interpolated with a smoothstep.
fn value_noise(x: f64, y: f64, seed: u64) -> f64 {
    let (fx, fy) = (libm::floor(x), libm::floor(y));
    let (ix, iy) = (fx as i64, fy as i64);
    let corner = |i: i64, j: i64| -> f64 {
        let h = mix64(seed ^ mix64((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (j as u64)));
        (h >> 11) as f64 / (1u64 << 53) as f64
    };
    let (tx, ty) = (smoothstep(0.0, 1.0, x - fx), smoothstep(0.0, 1.0, y - fy));
    let top = corner(ix, iy) + (corner(ix + 1, iy) - corner(ix, iy)) * tx;
    let bottom = corner(ix, iy + 1) + (corner(ix + 1, iy + 1) - corner(ix, iy + 1)) * tx;
    top + (bottom - top) * ty
}

/// What kind of opening an [`Inset`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsetKind {
    /// A door set into the wall, reaching the floor.
    Door,
    /// A window: a recess whose back is bright sky.
    Window,
}

/// A recess in a wall (door or window): a box behind the wall, open towards the room.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Inset {
    /// Door or window.
    pub kind: InsetKind,
    /// The recess, in the room frame; its face in the wall's plane is the opening.
    pub recess: Aabb,
    /// The wall it is set into (room face number: 0 −x, 1 +x, 2 −y, 3 +y).
    pub wall: u8,
    /// Material of the recess's sides.
    pub frame_material: u16,
    /// Material of the recess's back (the door leaf, or the sky).
    pub back_material: u16,
}

/// The room: an axis-aligned box in its own frame (x, y horizontal, z up, floor at z = 0), with `x` the
/// longer side.
#[derive(Clone, Debug, PartialEq)]
pub struct Room {
    /// Half the length along x (metres).
    pub half_x: f64,
    /// Half the width along y (metres); `half_y ≤ half_x`.
    pub half_y: f64,
    /// Ceiling height (metres).
    pub height: f64,
    /// Materials of floor, ceiling and walls.
    pub floor_material: u16,
    /// Ceiling material.
    pub ceiling_material: u16,
    /// Wall material.
    pub wall_material: u16,
    /// Doors and windows.
    pub insets: Vec<Inset>,
}

impl Room {
    /// The room's lower corner (room frame).
    pub fn min(&self) -> Vec3 {
        Vec3::new(-self.half_x, -self.half_y, 0.0)
    }

    /// The room's upper corner (room frame).
    pub fn max(&self) -> Vec3 {
        Vec3::new(self.half_x, self.half_y, self.height)
    }

    /// The room's centre (room frame).
    pub fn center(&self) -> Vec3 {
        Vec3::new(0.0, 0.0, self.height / 2.0)
    }

    /// Half-extents along the room axes (metres).
    pub fn half_extents(&self) -> Vec3 {
        Vec3::new(self.half_x, self.half_y, self.height / 2.0)
    }
}

/// A point light.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Light {
    /// Position (room frame).
    pub position: Vec3,
    /// Irradiance scale at 1 m, linear RGB.
    pub intensity: [f32; 3],
}

/// One solid of an object (or of nothing, for the room's own primitives).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Primitive {
    /// Its geometry, in the room frame.
    pub shape: Shape,
    /// Index into [`Scene::materials`].
    pub material: u16,
    /// Bounding box of the shape: a cheap test that skips most exact intersections.
    pub aabb: Aabb,
}

/// A piece of furniture: a class and a run of primitives.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    /// Semantic class.
    pub class: ObjectClass,
    /// Its primitives: `Scene::primitives[first..first + count]`.
    pub first: usize,
    /// How many primitives.
    pub count: usize,
    /// Bounding box of all its primitives (room frame).
    pub aabb: Aabb,
}

/// A procedurally generated indoor scene; it plays the role of a Taskonomy "building".
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    /// The building name used in the dataset layout.
    pub building: String,
    /// Room type.
    pub class: SceneClass,
    /// The room box and its openings.
    pub room: Room,
    /// All materials.
    pub materials: Vec<Material>,
    /// All object primitives, grouped by object.
    pub primitives: Vec<Primitive>,
    /// The furniture.
    pub objects: Vec<Object>,
    /// Ceiling lights.
    pub lights: Vec<Light>,
    /// Ambient irradiance (linear, relative to albedo).
    pub ambient: f32,
    /// Maps room coordinates to world coordinates (a turn about z and a shift), so that the room's axes are
    /// not the world's: poses in the dataset are world poses, like Taskonomy's.
    pub room_to_world: Pose,
}

/// Where a camera ray meets the scene.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TraceHit {
    /// The surface, in the room frame.
    pub surface: SurfaceHit,
    /// Which solid: 0 the room box, `1..=insets` the recesses, then `1 + insets + i` for `primitives[i]`.
    pub primitive: u32,
    /// Which object (index into [`Scene::objects`]), if any.
    pub object: Option<u16>,
    /// Material index.
    pub material: u16,
}

impl TraceHit {
    /// The semantic class of the hit (0 background).
    pub fn semantic(&self, scene: &Scene) -> u8 {
        self.object
            .map_or(0, |o| scene.objects[usize::from(o)].class.semantic_id())
    }
}

impl Scene {
    /// The scene `index` of the dataset with seed `seed`.
    pub fn generate(seed: u64, index: u64) -> Scene {
        let mut rng = Rng::new(seed, &[0x5ce7e, index]);
        let class = SceneClass::ALL[rng.below(SceneClass::ALL.len())];
        let mut b = Builder {
            rng,
            materials: Vec::new(),
            primitives: Vec::new(),
            objects: Vec::new(),
            footprints: Vec::new(),
        };
        let room = b.room(class);
        b.furnish(class, &room);
        let lights = b.lights(&room);
        let yaw = b.rng.range(-std::f64::consts::PI, std::f64::consts::PI);
        let shift = Vec3::new(
            b.rng.range(-20.0, 20.0),
            b.rng.range(-20.0, 20.0),
            b.rng.range(0.0, 6.0),
        );
        Scene {
            building: format!("synth{seed}_{index:04}"),
            class,
            room,
            materials: b.materials,
            primitives: b.primitives,
            objects: b.objects,
            lights,
            ambient: 0.28,
            room_to_world: Pose {
                rotation: Mat3::rot_z(yaw),
                translation: shift,
            },
        }
    }

    /// The first surface along a ray that starts inside the room. The room is closed, so there always is one.
    pub fn trace(&self, ray: &Ray) -> TraceHit {
        let room = &self.room;
        let mut best = TraceHit {
            surface: interior_exit(ray, room.min(), room.max()),
            primitive: 0,
            object: None,
            material: 0,
        };
        best.material = match best.surface.face {
            4 => room.floor_material,
            5 => room.ceiling_material,
            _ => room.wall_material,
        };
        if best.surface.face < 4 {
            let p = ray.at(best.surface.t);
            for (i, inset) in room.insets.iter().enumerate() {
                if inset.wall == best.surface.face && in_opening(inset, p) {
                    let surface = interior_exit(ray, inset.recess.min, inset.recess.max);
                    // The back of the recess is the face parallel to the wall.
                    let back = surface.face / 2 == inset.wall / 2;
                    let material = if back {
                        inset.back_material
                    } else {
                        inset.frame_material
                    };
                    best = TraceHit {
                        surface,
                        primitive: 1 + i as u32,
                        object: None,
                        material,
                    };
                    break;
                }
            }
        }
        let offset = 1 + room.insets.len() as u32;
        for (oi, object) in self.objects.iter().enumerate() {
            if !object.aabb.hit(ray, best.surface.t) {
                continue;
            }
            for pi in object.first..object.first + object.count {
                let prim = &self.primitives[pi];
                if !prim.aabb.hit(ray, best.surface.t) {
                    continue;
                }
                if let Some(surface) = prim.shape.intersect(ray, best.surface.t) {
                    best = TraceHit {
                        surface,
                        primitive: offset + pi as u32,
                        object: Some(oi as u16),
                        material: prim.material,
                    };
                }
            }
        }
        best
    }

    /// Whether any furniture blocks the ray before distance `t_max` (the room itself is convex and never
    /// does, seen from inside), testing object `*hint` first and leaving in `*hint` the object that blocked
    /// the ray, if any. The answer does not depend on the hint (only the order of the tests does), so
    /// coherent shadow rays can share one without changing any result.
    pub fn occluded_from(&self, ray: &Ray, t_max: f64, hint: &mut usize) -> bool {
        if let Some(o) = self.objects.get(*hint) {
            if self.object_blocks(o, ray, t_max) {
                return true;
            }
        }
        match self
            .objects
            .iter()
            .enumerate()
            .position(|(i, o)| i != *hint && self.object_blocks(o, ray, t_max))
        {
            Some(i) => {
                *hint = i;
                true
            }
            None => false,
        }
    }

    fn object_blocks(&self, o: &Object, ray: &Ray, t_max: f64) -> bool {
        o.aabb.hit(ray, t_max)
            && self.primitives[o.first..o.first + o.count]
                .iter()
                .any(|p| p.aabb.hit(ray, t_max) && p.shape.hits(ray, t_max))
    }

    /// Whether `p` (room frame) is inside the room, at least `margin` metres from walls, floor, ceiling and
    /// every object's bounding box: a place a camera may stand.
    pub fn is_free(&self, p: Vec3, margin: f64) -> bool {
        let inner = Aabb::new(self.room.min(), self.room.max()).expanded(-margin);
        inner.contains(p)
            && !self
                .objects
                .iter()
                .any(|o| o.aabb.expanded(margin).contains(p))
    }

    /// The number of room-owned primitives (the room box and the recesses) before the objects' ones.
    pub fn room_primitives(&self) -> u32 {
        1 + self.room.insets.len() as u32
    }
}

/// Whether the point `p` on wall `inset.wall` falls inside the inset's opening.
fn in_opening(inset: &Inset, p: Vec3) -> bool {
    let r = &inset.recess;
    let along = if inset.wall < 2 {
        (p.y, r.min.y, r.max.y)
    } else {
        (p.x, r.min.x, r.max.x)
    };
    along.0 > along.1 && along.0 < along.2 && p.z > r.min.z && p.z < r.max.z
}

/// How a room type is furnished: for each class, the probability that it appears at all and the range of
/// counts when it does.
fn composition(class: SceneClass) -> &'static [(ObjectClass, f64, usize, usize)] {
    use ObjectClass::*;
    match class {
        SceneClass::Bedroom => &[
            (Rug, 0.5, 1, 1),
            (Bed, 1.0, 1, 1),
            (Cabinet, 0.8, 1, 2),
            (Lamp, 0.6, 1, 1),
            (Shelf, 0.4, 1, 1),
            (Chair, 0.4, 1, 1),
            (Plant, 0.4, 1, 1),
            (Vase, 0.2, 1, 1),
        ],
        SceneClass::LivingRoom => &[
            (Rug, 0.7, 1, 1),
            (Sofa, 1.0, 1, 2),
            (Table, 0.9, 1, 1),
            (Screen, 0.7, 1, 1),
            (Chair, 0.5, 1, 2),
            (Plant, 0.7, 1, 2),
            (Lamp, 0.6, 1, 2),
            (Shelf, 0.5, 1, 1),
            (Cabinet, 0.3, 1, 1),
            (Vase, 0.3, 1, 1),
        ],
        SceneClass::Kitchen => &[
            (Refrigerator, 1.0, 1, 1),
            (Stove, 1.0, 1, 1),
            (Sink, 1.0, 1, 1),
            (Cabinet, 1.0, 2, 4),
            (Table, 0.5, 1, 1),
            (Chair, 0.5, 1, 3),
            (Plant, 0.3, 1, 1),
        ],
        SceneClass::Bathroom => &[
            (Toilet, 1.0, 1, 1),
            (Sink, 1.0, 1, 1),
            (Bathtub, 0.6, 1, 1),
            (Rug, 0.4, 1, 1),
            (Cabinet, 0.4, 1, 1),
            (Plant, 0.3, 1, 1),
        ],
        SceneClass::Office => &[
            (Table, 1.0, 1, 3),
            (Chair, 1.0, 1, 4),
            (Screen, 0.9, 1, 2),
            (Shelf, 0.7, 1, 2),
            (Cabinet, 0.5, 1, 2),
            (Plant, 0.5, 1, 1),
            (Lamp, 0.3, 1, 1),
        ],
        SceneClass::DiningRoom => &[
            (Rug, 0.5, 1, 1),
            (Table, 1.0, 1, 1),
            (Chair, 1.0, 2, 6),
            (Cabinet, 0.6, 1, 2),
            (Plant, 0.6, 1, 2),
            (Lamp, 0.4, 1, 1),
            (Vase, 0.5, 1, 1),
        ],
        SceneClass::Classroom => &[
            (Table, 1.0, 3, 6),
            (Chair, 1.0, 3, 8),
            (Screen, 0.9, 1, 1),
            (Shelf, 0.6, 1, 2),
            (Plant, 0.4, 1, 1),
            (Cabinet, 0.3, 1, 1),
        ],
        SceneClass::Lobby => &[
            (Rug, 0.6, 1, 1),
            (Sofa, 1.0, 1, 3),
            (Plant, 1.0, 2, 4),
            (Table, 0.6, 1, 2),
            (Lamp, 0.6, 1, 2),
            (Vase, 0.6, 1, 2),
            (Chair, 0.3, 1, 2),
        ],
    }
}

/// A part of an object in the object's frame (origin on the floor at its centre, back towards −y).
type Part = (Shape, u16);

/// The scene under construction.
struct Builder {
    rng: Rng,
    materials: Vec<Material>,
    primitives: Vec<Primitive>,
    objects: Vec<Object>,
    /// Occupied floor rectangles (room frame), to keep furniture apart.
    footprints: Vec<Aabb>,
}

/// Palettes, linear RGB.
const WALL_COLOURS: [[f32; 3]; 7] = [
    [0.62, 0.60, 0.54],
    [0.55, 0.57, 0.59],
    [0.45, 0.52, 0.60],
    [0.50, 0.58, 0.46],
    [0.64, 0.50, 0.40],
    [0.58, 0.46, 0.50],
    [0.40, 0.41, 0.45],
];
const WOOD_COLOURS: [[f32; 3]; 4] = [
    [0.40, 0.24, 0.12],
    [0.55, 0.36, 0.18],
    [0.28, 0.16, 0.08],
    [0.62, 0.48, 0.30],
];
const FABRIC_COLOURS: [[f32; 3]; 8] = [
    [0.55, 0.10, 0.10],
    [0.12, 0.22, 0.50],
    [0.20, 0.40, 0.22],
    [0.50, 0.45, 0.38],
    [0.30, 0.30, 0.32],
    [0.60, 0.50, 0.15],
    [0.45, 0.20, 0.45],
    [0.15, 0.42, 0.45],
];

impl Builder {
    fn material(&mut self, m: Material) -> u16 {
        let seed = self.rng.next_u64();
        self.materials.push(Material {
            noise_seed: seed,
            ..m
        });
        (self.materials.len() - 1) as u16
    }

    fn pick<const N: usize>(&mut self, colours: &[[f32; 3]; N]) -> [f32; 3] {
        let c = colours[self.rng.below(N)];
        // A little variation so that no two scenes share exact colours.
        let v = self.rng.range(0.85, 1.15) as f32;
        c.map(|x| (x * v).clamp(0.0, 1.0))
    }

    fn wood(&mut self) -> u16 {
        let base = self.pick(&WOOD_COLOURS);
        let accent = base.map(|x| x * 0.6);
        let scale = self.rng.range(0.02, 0.06);
        self.material(Material {
            base,
            accent,
            pattern: Pattern::Wood { scale },
            emission: 0.0,
            noise_seed: 0,
        })
    }

    fn fabric(&mut self) -> u16 {
        let base = self.pick(&FABRIC_COLOURS);
        let accent = base.map(|x| x * 0.8);
        let pattern = if self.rng.chance(0.3) {
            Pattern::Stripes {
                width: self.rng.range(0.04, 0.12),
            }
        } else {
            Pattern::Speckle { scale: 0.05 }
        };
        self.material(Material {
            base,
            accent,
            pattern,
            emission: 0.0,
            noise_seed: 0,
        })
    }

    fn plain(&mut self, base: [f32; 3]) -> u16 {
        self.material(Material::plain(base))
    }

    fn room(&mut self, class: SceneClass) -> Room {
        let (len, wid) = match class {
            SceneClass::Bathroom => ((2.4, 3.4), (1.9, 2.6)),
            SceneClass::Classroom | SceneClass::Lobby => ((6.0, 9.0), (4.8, 6.5)),
            _ => ((3.6, 6.5), (3.0, 4.8)),
        };
        let a = self.rng.range(len.0, len.1);
        let b = self.rng.range(wid.0, wid.1);
        let (half_x, half_y) = (a.max(b) / 2.0, a.min(b) / 2.0);
        let height = self.rng.range(2.5, 3.2);

        let wall_base = self.pick(&WALL_COLOURS);
        let wall = match self.rng.below(3) {
            0 => Material::plain(wall_base),
            1 => Material {
                base: wall_base,
                accent: wall_base.map(|x| x * 0.85),
                pattern: Pattern::Stripes {
                    width: self.rng.range(0.08, 0.25),
                },
                emission: 0.0,
                noise_seed: 0,
            },
            _ => Material {
                base: wall_base,
                accent: wall_base.map(|x| x * 0.9),
                pattern: Pattern::Speckle { scale: 0.15 },
                emission: 0.0,
                noise_seed: 0,
            },
        };
        let wall_material = self.material(wall);
        let floor = match (class, self.rng.below(3)) {
            (SceneClass::Bathroom | SceneClass::Kitchen, _) | (_, 0) => {
                let base = self.pick(&[[0.75, 0.75, 0.72], [0.55, 0.52, 0.48], [0.30, 0.30, 0.34]]);
                let accent =
                    self.pick(&[[0.20, 0.20, 0.22], [0.85, 0.84, 0.80], [0.45, 0.30, 0.22]]);
                Material {
                    base,
                    accent,
                    pattern: Pattern::Checker {
                        size: self.rng.range(0.25, 0.6),
                    },
                    emission: 0.0,
                    noise_seed: 0,
                }
            }
            (_, 1) => {
                let base = self.pick(&WOOD_COLOURS);
                Material {
                    base,
                    accent: base.map(|x| x * 0.65),
                    pattern: Pattern::Wood {
                        scale: self.rng.range(0.05, 0.12),
                    },
                    emission: 0.0,
                    noise_seed: 0,
                }
            }
            _ => {
                let base = self.pick(&FABRIC_COLOURS);
                Material {
                    base,
                    accent: base.map(|x| x * 0.7),
                    pattern: Pattern::Speckle { scale: 0.08 },
                    emission: 0.0,
                    noise_seed: 0,
                }
            }
        };
        let floor_material = self.material(floor);
        let ceiling_material = self.plain([0.85, 0.85, 0.83]);

        let mut room = Room {
            half_x,
            half_y,
            height,
            floor_material,
            ceiling_material,
            wall_material,
            insets: Vec::new(),
        };
        let doors = 1 + usize::from(self.rng.chance(0.3));
        let windows = self.rng.below(3);
        for kind in std::iter::repeat_n(InsetKind::Door, doors)
            .chain(std::iter::repeat_n(InsetKind::Window, windows))
        {
            self.inset(&mut room, kind);
        }
        room
    }

    /// Sets a door or window into a random wall, if one fits without overlapping another opening.
    fn inset(&mut self, room: &mut Room, kind: InsetKind) {
        for _ in 0..20 {
            let wall = self.rng.below(4) as u8;
            let wall_len = if wall < 2 {
                2.0 * room.half_y
            } else {
                2.0 * room.half_x
            };
            let (w, z0, z1, depth) = match kind {
                InsetKind::Door => (
                    self.rng.range(0.8, 1.0),
                    0.0,
                    self.rng.range(2.0, 2.2).min(room.height - 0.2),
                    0.12,
                ),
                InsetKind::Window => {
                    let z0 = self.rng.range(0.8, 1.1);
                    (
                        self.rng.range(0.8, 1.8),
                        z0,
                        (z0 + self.rng.range(1.0, 1.4)).min(room.height - 0.25),
                        0.25,
                    )
                }
            };
            if w > wall_len - 0.6 {
                continue;
            }
            let c = self.rng.range(
                -wall_len / 2.0 + w / 2.0 + 0.3,
                wall_len / 2.0 - w / 2.0 - 0.3,
            );
            let (min, max) = match wall {
                0 => (
                    Vec3::new(-room.half_x - depth, c - w / 2.0, z0),
                    Vec3::new(-room.half_x, c + w / 2.0, z1),
                ),
                1 => (
                    Vec3::new(room.half_x, c - w / 2.0, z0),
                    Vec3::new(room.half_x + depth, c + w / 2.0, z1),
                ),
                2 => (
                    Vec3::new(c - w / 2.0, -room.half_y - depth, z0),
                    Vec3::new(c + w / 2.0, -room.half_y, z1),
                ),
                _ => (
                    Vec3::new(c - w / 2.0, room.half_y, z0),
                    Vec3::new(c + w / 2.0, room.half_y + depth, z1),
                ),
            };
            let recess = Aabb::new(min, max);
            let clash = room
                .insets
                .iter()
                .any(|o| o.wall == wall && overlaps_2d(&o.recess.expanded(0.2), &recess));
            if clash {
                continue;
            }
            let frame_material = self.plain([0.82, 0.80, 0.76]);
            let back_material = match kind {
                InsetKind::Door => self.wood(),
                InsetKind::Window => {
                    let sky = [0.55, 0.75, 1.0];
                    self.material(Material {
                        base: sky,
                        accent: [0.9, 0.95, 1.0],
                        pattern: Pattern::Speckle { scale: 0.6 },
                        emission: 2.2,
                        noise_seed: 0,
                    })
                }
            };
            room.insets.push(Inset {
                kind,
                recess,
                wall,
                frame_material,
                back_material,
            });
            if kind == InsetKind::Door {
                // Keep the floor in front of a door clear.
                let clear = match wall {
                    0 => Aabb::new(
                        Vec3::new(-room.half_x, min.y, 0.0),
                        Vec3::new(-room.half_x + 0.9, max.y, 0.0),
                    ),
                    1 => Aabb::new(
                        Vec3::new(room.half_x - 0.9, min.y, 0.0),
                        Vec3::new(room.half_x, max.y, 0.0),
                    ),
                    2 => Aabb::new(
                        Vec3::new(min.x, -room.half_y, 0.0),
                        Vec3::new(max.x, -room.half_y + 0.9, 0.0),
                    ),
                    _ => Aabb::new(
                        Vec3::new(min.x, room.half_y - 0.9, 0.0),
                        Vec3::new(max.x, room.half_y, 0.0),
                    ),
                };
                self.footprints.push(clear);
            }
            return;
        }
    }

    fn lights(&mut self, room: &Room) -> Vec<Light> {
        let area = 4.0 * room.half_x * room.half_y;
        let n = 1 + usize::from(area > 14.0) + usize::from(area > 35.0);
        let warm = self.rng.chance(0.5);
        (0..n)
            .map(|_| {
                let p = Vec3::new(
                    self.rng.range(-0.7, 0.7) * room.half_x,
                    self.rng.range(-0.7, 0.7) * room.half_y,
                    room.height - 0.05,
                );
                let s = self.rng.range(2.2, 3.2) as f32;
                let intensity = if warm {
                    [s, s * 0.92, s * 0.8]
                } else {
                    [s * 0.95, s * 0.97, s]
                };
                Light {
                    position: p,
                    intensity,
                }
            })
            .collect()
    }

    fn furnish(&mut self, class: SceneClass, room: &Room) {
        for &(object, p, lo, hi) in composition(class) {
            if !self.rng.chance(p) {
                continue;
            }
            let n = lo + self.rng.below(hi - lo + 1);
            for _ in 0..n {
                self.place(object, room);
            }
        }
    }

    /// Builds one object and finds it a place on the floor; gives up quietly when the room is full.
    fn place(&mut self, class: ObjectClass, room: &Room) {
        let (parts, half) = self.build(class);
        let against_wall = match class {
            ObjectClass::Bed
            | ObjectClass::Cabinet
            | ObjectClass::Shelf
            | ObjectClass::Refrigerator
            | ObjectClass::Stove => 1.0,
            ObjectClass::Sink
            | ObjectClass::Toilet
            | ObjectClass::Bathtub
            | ObjectClass::Sofa
            | ObjectClass::Screen => 0.8,
            ObjectClass::Lamp | ObjectClass::Plant | ObjectClass::Vase => 0.5,
            _ => 0.15,
        };
        for _ in 0..40 {
            let (pos, yaw) = if self.rng.chance(against_wall) {
                // Back (−y in the object frame) against a wall: the object faces into the room.
                let wall = self.rng.below(4);
                let (yaw, span, offset) = match wall {
                    0 => (-std::f64::consts::FRAC_PI_2, room.half_y, room.half_x),
                    1 => (std::f64::consts::FRAC_PI_2, room.half_y, room.half_x),
                    2 => (0.0, room.half_x, room.half_y),
                    _ => (std::f64::consts::PI, room.half_x, room.half_y),
                };
                if half.x >= span - 0.05 {
                    continue;
                }
                let along = self.rng.range(-span + half.x + 0.05, span - half.x - 0.05);
                let off = offset - half.y - 0.03;
                let pos = match wall {
                    0 => Vec3::new(-off, along, 0.0),
                    1 => Vec3::new(off, along, 0.0),
                    2 => Vec3::new(along, -off, 0.0),
                    _ => Vec3::new(along, off, 0.0),
                };
                (pos, yaw)
            } else {
                let quarter = self.rng.below(4) as f64 * std::f64::consts::FRAC_PI_2;
                let jitter = if self.rng.chance(0.4) {
                    self.rng.range(-0.5, 0.5)
                } else {
                    0.0
                };
                let pos = Vec3::new(
                    self.rng.range(-room.half_x, room.half_x),
                    self.rng.range(-room.half_y, room.half_y),
                    0.0,
                );
                (pos, quarter + jitter)
            };
            let (c, s) = (libm::cos(yaw).abs(), libm::sin(yaw).abs());
            let ext = Vec3::new(c * half.x + s * half.y, s * half.x + c * half.y, 0.0);
            let foot = Aabb::new(pos - ext, pos + ext);
            let inside = foot.min.x > -room.half_x
                && foot.max.x < room.half_x
                && foot.min.y > -room.half_y
                && foot.max.y < room.half_y;
            // Rugs lie under other furniture; everything else keeps 5 cm apart.
            let free = class == ObjectClass::Rug
                || !self
                    .footprints
                    .iter()
                    .any(|f| overlaps_2d(&f.expanded(0.05), &foot));
            if !inside || !free {
                continue;
            }
            if class != ObjectClass::Rug {
                self.footprints.push(foot);
            }
            let top = parts
                .iter()
                .map(|(s, _)| s.aabb().max.z)
                .fold(0.0, f64::max);
            self.add_object(class, &parts, pos, yaw);
            self.decorate(class, pos, yaw, half, top);
            return;
        }
    }

    /// Puts a vase on some tables and cabinets, and a screen on some cabinets.
    fn decorate(&mut self, class: ObjectClass, pos: Vec3, yaw: f64, half: Vec3, top: f64) {
        let (item, p) = match class {
            ObjectClass::Table => (ObjectClass::Vase, 0.35),
            ObjectClass::Cabinet => (
                if self.rng.chance(0.5) {
                    ObjectClass::Vase
                } else {
                    ObjectClass::Screen
                },
                0.3,
            ),
            _ => return,
        };
        if !self.rng.chance(p) {
            return;
        }
        let (parts, item_half) = self.build(item);
        if item_half.x > half.x || item_half.y > half.y {
            return;
        }
        let dx = self
            .rng
            .range(-(half.x - item_half.x), half.x - item_half.x)
            * 0.8;
        let local = Vec3::new(dx, 0.0, top);
        let at = pos + Mat3::rot_z(yaw) * local;
        self.add_object(item, &parts, at, yaw);
    }

    fn add_object(&mut self, class: ObjectClass, parts: &[Part], pos: Vec3, yaw: f64) {
        let turn = Mat3::rot_z(yaw);
        let first = self.primitives.len();
        let mut aabb: Option<Aabb> = None;
        for &(shape, material) in parts {
            let shape = match shape {
                Shape::Cuboid {
                    center,
                    half,
                    yaw: y,
                    ..
                } => Shape::cuboid(pos + turn * center, half, y + yaw),
                Shape::Cylinder {
                    base,
                    radius,
                    height,
                } => Shape::Cylinder {
                    base: pos + turn * base,
                    radius,
                    height,
                },
                Shape::Sphere { center, radius } => Shape::Sphere {
                    center: pos + turn * center,
                    radius,
                },
            };
            let bb = shape.aabb();
            aabb = Some(aabb.map_or(bb, |a| a.union(&bb)));
            self.primitives.push(Primitive {
                shape,
                material,
                aabb: bb,
            });
        }
        if let Some(aabb) = aabb {
            self.objects.push(Object {
                class,
                first,
                count: parts.len(),
                aabb,
            });
        }
    }

    /// The parts of one object in its own frame, and its half-size (x: width, y: depth, z: height/2).
    fn build(&mut self, class: ObjectClass) -> (Vec<Part>, Vec3) {
        let bx = |x: f64, y: f64, z: f64, hx: f64, hy: f64, hz: f64| {
            Shape::cuboid(Vec3::new(x, y, z), Vec3::new(hx, hy, hz), 0.0)
        };
        let cyl = |x: f64, y: f64, z: f64, radius: f64, height: f64| Shape::Cylinder {
            base: Vec3::new(x, y, z),
            radius,
            height,
        };
        let ball = |x: f64, y: f64, z: f64, radius: f64| Shape::Sphere {
            center: Vec3::new(x, y, z),
            radius,
        };
        let mut parts: Vec<Part> = Vec::new();
        let half;
        match class {
            ObjectClass::Chair => {
                let (w, seat) = (self.rng.range(0.2, 0.25), self.rng.range(0.42, 0.48));
                let back = self.rng.range(0.35, 0.5);
                let round_legs = self.rng.chance(0.5);
                let frame = self.wood();
                let cushion = if self.rng.chance(0.5) {
                    self.fabric()
                } else {
                    frame
                };
                for (sx, sy) in [(-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)] {
                    let (x, y) = (sx * (w - 0.03), sy * (w - 0.03));
                    let leg = if round_legs {
                        cyl(x, y, 0.0, 0.02, seat)
                    } else {
                        bx(x, y, seat / 2.0, 0.02, 0.02, seat / 2.0)
                    };
                    parts.push((leg, frame));
                }
                parts.push((bx(0.0, 0.0, seat + 0.03, w, w, 0.03), cushion));
                parts.push((
                    bx(
                        0.0,
                        -w + 0.025,
                        seat + 0.06 + back / 2.0,
                        w,
                        0.025,
                        back / 2.0,
                    ),
                    frame,
                ));
                half = Vec3::new(w, w, (seat + back) / 2.0);
            }
            ObjectClass::Sofa => {
                let (w, d) = (self.rng.range(0.8, 1.1), self.rng.range(0.4, 0.48));
                let m = self.fabric();
                parts.push((bx(0.0, 0.0, 0.22, w, d, 0.22), m));
                parts.push((bx(0.0, -d + 0.1, 0.44 + 0.22, w, 0.1, 0.22), m));
                parts.push((bx(-w + 0.1, 0.0, 0.44 + 0.1, 0.1, d, 0.1), m));
                parts.push((bx(w - 0.1, 0.0, 0.44 + 0.1, 0.1, d, 0.1), m));
                half = Vec3::new(w, d, 0.45);
            }
            ObjectClass::Bed => {
                let (w, d) = (self.rng.range(0.5, 0.85), self.rng.range(0.95, 1.05));
                let frame = self.wood();
                let sheet = self.plain([0.85, 0.85, 0.82]);
                let cover = self.fabric();
                parts.push((bx(0.0, 0.0, 0.15, w, d, 0.15), frame));
                parts.push((bx(0.0, 0.05, 0.4, w - 0.03, d - 0.08, 0.1), sheet));
                parts.push((bx(0.0, 0.3, 0.51, w - 0.02, d - 0.35, 0.02), cover));
                parts.push((bx(0.0, -d + 0.04, 0.5, w, 0.04, 0.5), frame));
                parts.push((bx(0.0, -d + 0.3, 0.55, w - 0.15, 0.15, 0.06), sheet));
                half = Vec3::new(w, d, 0.5);
            }
            ObjectClass::Table => {
                let m = self.wood();
                let h = self.rng.range(0.4, 0.76);
                if self.rng.chance(0.3) {
                    let rad = self.rng.range(0.35, 0.6);
                    parts.push((cyl(0.0, 0.0, h - 0.04, rad, 0.04), m));
                    parts.push((cyl(0.0, 0.0, 0.0, 0.05, h - 0.04), m));
                    parts.push((cyl(0.0, 0.0, 0.0, 0.25, 0.03), m));
                    half = Vec3::new(rad, rad, h / 2.0);
                } else {
                    let (w, d) = (self.rng.range(0.45, 0.9), self.rng.range(0.3, 0.5));
                    parts.push((bx(0.0, 0.0, h - 0.025, w, d, 0.025), m));
                    for (sx, sy) in [(-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)] {
                        parts.push((
                            bx(
                                sx * (w - 0.05),
                                sy * (d - 0.05),
                                (h - 0.05) / 2.0,
                                0.03,
                                0.03,
                                (h - 0.05) / 2.0,
                            ),
                            m,
                        ));
                    }
                    half = Vec3::new(w, d, h / 2.0);
                }
            }
            ObjectClass::Cabinet => {
                let (w, d, h) = (
                    self.rng.range(0.3, 0.6),
                    self.rng.range(0.2, 0.3),
                    self.rng.range(0.7, 1.0),
                );
                let m = if self.rng.chance(0.6) {
                    self.wood()
                } else {
                    self.plain([0.8, 0.8, 0.78])
                };
                let metal = self.plain([0.6, 0.6, 0.62]);
                parts.push((bx(0.0, 0.0, h / 2.0, w, d, h / 2.0), m));
                parts.push((bx(-0.08, d + 0.01, h * 0.8, 0.05, 0.01, 0.01), metal));
                parts.push((bx(0.08, d + 0.01, h * 0.8, 0.05, 0.01, 0.01), metal));
                half = Vec3::new(w, d, h / 2.0);
            }
            ObjectClass::Lamp => {
                let metal = self.plain([0.15, 0.15, 0.16]);
                let shade_colour =
                    self.pick(&[[0.95, 0.9, 0.75], [0.9, 0.85, 0.8], [0.95, 0.8, 0.6]]);
                let shade = self.material(Material {
                    emission: 1.6,
                    ..Material::plain(shade_colour)
                });
                let h = self.rng.range(1.3, 1.7);
                parts.push((cyl(0.0, 0.0, 0.0, 0.15, 0.03), metal));
                parts.push((cyl(0.0, 0.0, 0.03, 0.015, h - 0.2), metal));
                if self.rng.chance(0.5) {
                    parts.push((cyl(0.0, 0.0, h - 0.25, 0.18, 0.25), shade));
                } else {
                    parts.push((ball(0.0, 0.0, h - 0.1, 0.16), shade));
                }
                half = Vec3::new(0.18, 0.18, h / 2.0);
            }
            ObjectClass::Plant => {
                let colour = self.pick(&[[0.55, 0.25, 0.12], [0.8, 0.8, 0.78], [0.2, 0.2, 0.22]]);
                let pot = self.plain(colour);
                let green =
                    self.pick(&[[0.08, 0.30, 0.08], [0.15, 0.40, 0.10], [0.05, 0.25, 0.15]]);
                let leaves = self.material(Material {
                    base: green,
                    accent: green.map(|x| x * 0.5),
                    pattern: Pattern::Speckle { scale: 0.04 },
                    emission: 0.0,
                    noise_seed: 0,
                });
                let (pr, ph) = (self.rng.range(0.12, 0.2), self.rng.range(0.25, 0.45));
                parts.push((cyl(0.0, 0.0, 0.0, pr, ph), pot));
                let n = 1 + self.rng.below(3);
                for i in 0..n {
                    let rad = self.rng.range(0.18, 0.3);
                    let a = i as f64 * 2.1;
                    let off = if n == 1 { 0.0 } else { 0.1 };
                    parts.push((
                        ball(
                            off * libm::cos(a),
                            off * libm::sin(a),
                            ph + rad * 0.8 + 0.15 * i as f64,
                            rad,
                        ),
                        leaves,
                    ));
                }
                half = Vec3::new(0.32, 0.32, (ph + 0.8) / 2.0);
            }
            ObjectClass::Screen => {
                let dark = self.material(Material {
                    emission: 0.25,
                    ..Material::plain([0.06, 0.08, 0.12])
                });
                let metal = self.plain([0.2, 0.2, 0.22]);
                let (w, h) = (self.rng.range(0.3, 0.6), self.rng.range(0.22, 0.4));
                let stand = self.rng.range(0.1, 0.2);
                parts.push((bx(0.0, 0.0, 0.01, 0.12, 0.08, 0.01), metal));
                parts.push((bx(0.0, -0.02, stand / 2.0, 0.02, 0.02, stand / 2.0), metal));
                parts.push((bx(0.0, 0.0, stand + h, w, 0.02, h), dark));
                half = Vec3::new(w, 0.08, (stand + 2.0 * h) / 2.0);
            }
            ObjectClass::Shelf => {
                let m = self.wood();
                let (w, d, h) = (self.rng.range(0.35, 0.6), 0.16, self.rng.range(1.2, 2.0));
                let levels = 3 + self.rng.below(3);
                parts.push((bx(-w + 0.015, 0.0, h / 2.0, 0.015, d, h / 2.0), m));
                parts.push((bx(w - 0.015, 0.0, h / 2.0, 0.015, d, h / 2.0), m));
                parts.push((bx(0.0, -d + 0.01, h / 2.0, w, 0.01, h / 2.0), m));
                let step = h / levels as f64;
                for l in 0..=levels {
                    let z = (l as f64 * step).min(h - 0.015).max(0.015);
                    parts.push((bx(0.0, 0.0, z, w - 0.03, d, 0.015), m));
                    if l < levels && self.rng.chance(0.8) {
                        // A run of books of random heights and colours.
                        let mut x = -w + 0.04;
                        let end = x + self.rng.range(0.2, 2.0 * w - 0.1);
                        while x < end {
                            let bw = self.rng.range(0.015, 0.035);
                            let bh = self.rng.range(0.5, 0.85) * (step - 0.05);
                            let colour = self.pick(&FABRIC_COLOURS);
                            let book = self.plain(colour);
                            parts.push((
                                bx(x + bw, 0.0, z + 0.015 + bh / 2.0, bw, d - 0.03, bh / 2.0),
                                book,
                            ));
                            x += 2.0 * bw + 0.004;
                        }
                    }
                }
                half = Vec3::new(w, d, h / 2.0);
            }
            ObjectClass::Rug => {
                let base = self.pick(&FABRIC_COLOURS);
                let accent = self.pick(&FABRIC_COLOURS);
                let pattern = if self.rng.chance(0.5) {
                    Pattern::Stripes {
                        width: self.rng.range(0.1, 0.3),
                    }
                } else {
                    Pattern::Checker {
                        size: self.rng.range(0.15, 0.4),
                    }
                };
                let m = self.material(Material {
                    base,
                    accent,
                    pattern,
                    emission: 0.0,
                    noise_seed: 0,
                });
                let (w, d) = (self.rng.range(0.6, 1.2), self.rng.range(0.5, 0.9));
                parts.push((bx(0.0, 0.0, 0.005, w, d, 0.005), m));
                half = Vec3::new(w, d, 0.005);
            }
            ObjectClass::Toilet => {
                let white = self.plain([0.9, 0.9, 0.9]);
                parts.push((cyl(0.0, 0.05, 0.0, 0.17, 0.4), white));
                parts.push((cyl(0.0, 0.05, 0.4, 0.2, 0.03), white));
                parts.push((bx(0.0, -0.2, 0.6, 0.2, 0.08, 0.2), white));
                half = Vec3::new(0.22, 0.28, 0.4);
            }
            ObjectClass::Sink => {
                let cabinet = if self.rng.chance(0.5) {
                    self.wood()
                } else {
                    self.plain([0.8, 0.8, 0.78])
                };
                let white = self.plain([0.92, 0.92, 0.92]);
                let metal = self.plain([0.6, 0.6, 0.62]);
                let w = self.rng.range(0.3, 0.5);
                parts.push((bx(0.0, 0.0, 0.4, w, 0.25, 0.4), cabinet));
                parts.push((bx(0.0, 0.02, 0.85, w - 0.05, 0.2, 0.05), white));
                parts.push((cyl(0.0, -0.17, 0.9, 0.015, 0.15), metal));
                half = Vec3::new(w, 0.25, 0.5);
            }
            ObjectClass::Refrigerator => {
                let colour = self.pick(&[[0.85, 0.85, 0.85], [0.6, 0.6, 0.62], [0.2, 0.2, 0.22]]);
                let body = self.plain(colour);
                let metal = self.plain([0.5, 0.5, 0.52]);
                let h = self.rng.range(1.6, 1.9);
                parts.push((bx(0.0, 0.0, h / 2.0, 0.35, 0.33, h / 2.0), body));
                parts.push((cyl(0.28, 0.36, 0.6, 0.015, 0.6), metal));
                half = Vec3::new(0.35, 0.37, h / 2.0);
            }
            ObjectClass::Bathtub => {
                let white = self.plain([0.92, 0.92, 0.9]);
                let water = self.plain([0.75, 0.8, 0.85]);
                let w = self.rng.range(0.7, 0.85);
                parts.push((bx(0.0, 0.0, 0.27, w, 0.36, 0.27), white));
                parts.push((bx(0.0, 0.0, 0.545, w - 0.06, 0.3, 0.005), water));
                half = Vec3::new(w, 0.36, 0.28);
            }
            ObjectClass::Stove => {
                let colour = self.pick(&[[0.85, 0.85, 0.85], [0.3, 0.3, 0.32]]);
                let body = self.plain(colour);
                let black = self.plain([0.03, 0.03, 0.03]);
                parts.push((bx(0.0, 0.0, 0.45, 0.3, 0.3, 0.45), body));
                for (x, y) in [(-0.13, -0.12), (0.13, -0.12), (-0.13, 0.12), (0.13, 0.12)] {
                    parts.push((cyl(x, y, 0.9, 0.08, 0.015), black));
                }
                parts.push((bx(0.0, 0.305, 0.55, 0.25, 0.005, 0.2), black));
                half = Vec3::new(0.3, 0.31, 0.46);
            }
            ObjectClass::Vase => {
                let colour = self.pick(&[
                    [0.7, 0.2, 0.1],
                    [0.1, 0.3, 0.6],
                    [0.85, 0.85, 0.8],
                    [0.2, 0.5, 0.4],
                ]);
                let m = self.material(Material {
                    base: colour,
                    accent: colour.map(|x| x * 0.7),
                    pattern: Pattern::Stripes { width: 0.02 },
                    emission: 0.0,
                    noise_seed: 0,
                });
                let (rad, h) = (self.rng.range(0.05, 0.12), self.rng.range(0.15, 0.45));
                parts.push((cyl(0.0, 0.0, 0.0, rad, h), m));
                parts.push((ball(0.0, 0.0, h + rad * 0.6, rad * 1.2), m));
                half = Vec3::new(rad * 1.2, rad * 1.2, (h + rad * 1.8) / 2.0);
            }
        }
        // The footprint must hold every part (foliage and handles stick out of the nominal size).
        let bb = parts
            .iter()
            .map(|(s, _)| s.aabb())
            .reduce(|a, b| a.union(&b));
        let half = bb.map_or(half, |bb| {
            Vec3::new(bb.max.x.max(-bb.min.x), bb.max.y.max(-bb.min.y), half.z)
        });
        (parts, half)
    }
}

/// Whether two boxes overlap in their x–y footprint.
fn overlaps_2d(a: &Aabb, b: &Aabb) -> bool {
    a.min.x < b.max.x && b.min.x < a.max.x && a.min.y < b.max.y && b.min.y < a.max.y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_a_pure_function_of_seed_and_index() {
        assert_eq!(Scene::generate(5, 3), Scene::generate(5, 3));
        assert_ne!(Scene::generate(5, 3), Scene::generate(5, 4));
    }

    #[test]
    fn every_room_type_appears_and_furniture_stays_inside() {
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..48 {
            let scene = Scene::generate(1, i);
            seen.insert(scene.class);
            assert!(scene.room.half_y <= scene.room.half_x);
            let room = Aabb::new(scene.room.min(), scene.room.max()).expanded(1e-9);
            for o in &scene.objects {
                assert!(
                    room.contains(o.aabb.min) && room.contains(o.aabb.max),
                    "{:?} leaves the room",
                    o.class
                );
            }
            assert!(!scene.objects.is_empty());
            assert!(!scene.lights.is_empty());
        }
        assert_eq!(seen.len(), SceneClass::ALL.len());
    }

    #[test]
    fn trace_always_hits_something_inside_the_room() {
        let scene = Scene::generate(9, 0);
        let o = scene.room.center();
        for i in 0..200 {
            let a = i as f64 * 0.1;
            let ray = Ray::new(
                o,
                Vec3::new(libm::cos(a), libm::sin(a), libm::sin(a * 0.37)),
            );
            let hit = scene.trace(&ray);
            assert!(hit.surface.t > 0.0 && hit.surface.t.is_finite());
            assert!(
                hit.surface.normal.dot(ray.dir) <= 0.0,
                "normals face the camera"
            );
        }
    }

    #[test]
    fn semantic_ids_round_trip() {
        for c in ObjectClass::ALL {
            assert_eq!(ObjectClass::from_semantic_id(c.semantic_id()), Some(c));
        }
        assert_eq!(ObjectClass::from_semantic_id(0), None);
        assert_eq!(ObjectClass::from_semantic_id(17), None);
    }
}
