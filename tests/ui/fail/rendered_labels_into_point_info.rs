// Rendering writes a task's labels to files of its domain folder; a point-info field belongs to each
// view's record, which rendering does not write.
use taskonomy::prelude::*;

fn room_size(view: &SceneView) -> [f32; 3] {
    view.room().half_extents.map(|half| 2.0 * half as f32)
}

#[task(output = Vector<3>, loss = L1, label = room_size, encoding = PointInfo("room_size"))]
pub struct RoomSize;

fn main() {}
